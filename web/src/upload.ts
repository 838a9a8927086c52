// The start page: drop or pick a model, choose targets, run the check.
import { ApiError, statusOf, uploadModel } from './api';
import { loadTargets } from './targets';
import type { Report } from './types';
import { errorText, fmtBytes, h } from './util';
import { droppedFolder, folderFiles, pickedFolder, zipFiles } from './zip';
import type { FolderFile } from './zip';

export interface UploadHandlers {
  onReport: (report: Report) => void;
  onUnauthorized: (err: ApiError) => void;
}

function showError(el: HTMLElement, message: string): void {
  el.textContent = message;
  el.hidden = false;
}

/** The drop zone with the file and folder pickers; `picked()` is the file to upload (a folder packed as .zip). */
function modelPicker(error: HTMLElement): { drop: HTMLLabelElement; folderPick: HTMLLabelElement;
  file: HTMLInputElement; picked: () => File | null } {
  const file = h('input', { type: 'file', id: 'model-file', name: 'file', accept: '.pb,.pbtxt,.tflite,.txt,.keras,.h5,.hdf5,.zip,.tar,.gz,.tgz',
    class: 'file-input', 'aria-describedby': 'drop-help' });
  const folder = h('input', { type: 'file', id: 'model-folder', name: 'folder', webkitdirectory: true,
    class: 'file-input', 'aria-describedby': 'drop-help' });
  const chosen = h('p', { class: 'chosen', 'aria-live': 'polite' });
  const drop = h('label', { class: 'dropzone', for: 'model-file' },
    h('strong', {}, 'Drop a model file or a SavedModel folder here, or choose one'),
    h('span', { id: 'drop-help' }, 'A frozen TensorFlow graph (.pb or .pbtxt), a TFLite model (.tflite), a Keras '
      + 'model (.keras or .h5), or a SavedModel: its folder (saved_model.pb and variables/) or that folder as a '
      + '.zip, .tar or .tar.gz archive'),
    file, chosen);
  const folderPick = h('label', { class: 'folder-pick', for: 'model-folder' }, 'Or choose a SavedModel folder:', folder);
  let picked: File | null = null;
  const pick = (f: File | null | undefined, note = ''): void => {
    picked = f ?? null;
    chosen.textContent = picked ? `${picked.name} (${fmtBytes(picked.size)}${note})` : '';
    drop.classList.toggle('has-file', Boolean(picked));
  };
  // A folder is packed into one .zip here; the service unpacks it as any SavedModel archive.
  const pickFolder = async (name: string, listing: () => Promise<FolderFile[]>): Promise<void> => {
    pick(null);
    chosen.textContent = `Packing the folder ${name}…`;
    try {
      const files = await listing();
      if (!files.length) throw new Error(`the folder ${name} is empty`);
      pick(await zipFiles(`${name}.zip`, files), `, ${files.length} files packed from the folder`);
    } catch (err) {
      chosen.textContent = '';
      showError(error, `The folder could not be read: ${errorText(err)}`);
    }
  };
  file.addEventListener('change', () => pick(file.files?.[0]));
  folder.addEventListener('change', () => {
    const { name, files } = pickedFolder(folder.files);
    void pickFolder(name, () => Promise.resolve(files));
  });
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    error.hidden = true;
    const dir = droppedFolder(e.dataTransfer); // read now: the drop's data is gone once this handler returns
    if (dir) void pickFolder(dir.name, () => folderFiles(dir));
    else if (e.dataTransfer?.files.length) pick(e.dataTransfer.files[0]);
  });
  return { drop, folderPick, file, picked: () => picked };
}

/** The target checkboxes, filled from the service's target registry. */
function targetChoice(error: HTMLElement): { set: HTMLFieldSetElement; inputs: () => HTMLInputElement[] } {
  const set = h('fieldset', { class: 'targets' }, h('legend', {}, 'Check it for these targets'));
  const boxes: HTMLInputElement[] = [];
  loadTargets().then((targets) => {
    const labels = targets.map((t) => {
      const box = h('input', { type: 'checkbox', name: 'target', value: t.name, checked: t.default });
      boxes.push(box);
      return h('label', { class: 'target' }, box,
        h('span', { class: 'tname' }, t.name), h('span', { class: 'thelp' }, t.description));
    });
    set.append(...labels);
  }).catch((err: unknown) => showError(error, `The targets could not be loaded: ${errorText(err)}`));
  return { set, inputs: () => boxes };
}

function uploadMessage(err: unknown): string {
  return statusOf(err) === 413
    ? `The file is too large for this service: ${errorText(err)}`
    : `The check could not run: ${errorText(err)}`;
}

/** The form's fields, read when it is submitted. */
interface UploadForm {
  error: HTMLElement;
  picker: ReturnType<typeof modelPicker>;
  targets: ReturnType<typeof targetChoice>;
  inputs: HTMLInputElement;
  outputs: HTMLInputElement;
  verify: HTMLInputElement;
  status: HTMLElement;
  submit: HTMLButtonElement;
}

/** Submit: check what was chosen, upload it, and hand the report on. */
async function check(f: UploadForm, { onReport, onUnauthorized }: UploadHandlers): Promise<void> {
  f.error.hidden = true;
  const picked = f.picker.picked();
  if (!picked) {
    showError(f.error, 'Choose a model file or folder first.');
    f.picker.file.focus();
    return;
  }
  const targets = f.targets.inputs().filter((i) => i.checked).map((i) => i.value);
  if (!targets.length) {
    showError(f.error, 'Choose at least one target.');
    f.targets.inputs()[0]?.focus();
    return;
  }
  const split = (s: HTMLInputElement): string[] => s.value.split(/[\s;]+/).filter(Boolean);
  f.submit.disabled = true;
  f.status.textContent = `Checking ${picked.name}…`;
  try {
    const report = await uploadModel(picked, { targets, inputs: split(f.inputs), outputs: split(f.outputs),
      verify: f.verify.checked });
    f.status.textContent = 'Done.';
    onReport(report);
  } catch (err) {
    f.status.textContent = '';
    if (err instanceof ApiError && err.status === 401) onUnauthorized(err);
    else showError(f.error, uploadMessage(err));
  } finally {
    f.submit.disabled = false;
  }
}

function uploadForm(f: UploadForm): HTMLFormElement {
  return h('form', { class: 'upload', 'aria-labelledby': 'upload-title' },
    f.picker.drop,
    f.picker.folderPick,
    f.targets.set,
    h('details', { class: 'io' }, h('summary', {}, 'Inputs and outputs of a frozen graph (optional)'),
      h('p', { id: 'io-help' }, 'Separated by spaces. An input may fix its shape (image:1,224,224,3, where ? is an unknown '
        + 'dimension). Without outputs, the tensors nothing consumes are used.'),
      h('label', { for: 'io-inputs' }, 'Inputs'), f.inputs,
      h('label', { for: 'io-outputs' }, 'Outputs'), f.outputs),
    h('div', { class: 'verify-row' }, h('label', { for: 'verify-toggle', class: 'verify' }, f.verify,
      h('strong', {}, 'Verify'), ' with the real converter, LiteRT and TFLite Micro'),
    h('span', { id: 'verify-help', class: 'thelp' }, 'Slower (seconds per target, after the check); the service '
      + 'needs TensorFlow. Each verdict is then marked confirmed or contradicted.')),
    h('div', { class: 'row' }, f.submit, f.status), f.error);
}

export function renderUpload(main: HTMLElement, handlers: UploadHandlers): void {
  const error = h('div', { class: 'error', role: 'alert', hidden: true });
  const fields: UploadForm = {
    error,
    picker: modelPicker(error),
    targets: targetChoice(error),
    inputs: h('input', { type: 'text', id: 'io-inputs', placeholder: 'image:1,224,224,3', 'aria-describedby': 'io-help' }),
    outputs: h('input', { type: 'text', id: 'io-outputs', placeholder: 'logits', 'aria-describedby': 'io-help' }),
    verify: h('input', { type: 'checkbox', id: 'verify-toggle', name: 'verify', 'aria-describedby': 'verify-help' }),
    status: h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }),
    submit: h('button', { type: 'submit', class: 'primary' }, 'Check the model'),
  };
  const form = uploadForm(fields);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void check(fields, handlers);
  });
  main.replaceChildren(h('div', { class: 'page upload-page' },
    h('h1', { id: 'upload-title' }, 'Check a model before converting it to TFLite'),
    h('p', { class: 'lead' }, 'graphlint reads your model without TensorFlow and lists every problem the '
      + 'TFLite converter or the runtime would hit, for each target at once: ops without a kernel, missing '
      + 'quantization ranges, dynamic shapes, training leftovers. You then see them on the graph.'),
    form));
}
