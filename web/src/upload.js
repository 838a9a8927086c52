// The start page: drop or pick a model, choose targets, run the check.
import { uploadModel } from './api.js';
import { loadTargets } from './targets.js';
import { fmtBytes, h } from './util.js';
import { droppedFolder, folderFiles, pickedFolder, zipFiles } from './zip.js';

export function renderUpload(main, { onReport, onUnauthorized }) {
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
  let picked = null;
  const pick = (f, note = '') => {
    picked = f || null;
    chosen.textContent = picked ? `${picked.name} (${fmtBytes(picked.size)}${note})` : '';
    drop.classList.toggle('has-file', Boolean(picked));
  };
  // A folder is packed into one .zip here; the service unpacks it as any SavedModel archive.
  const pickFolder = async (name, listing) => {
    pick(null);
    chosen.textContent = `Packing the folder ${name}…`;
    try {
      const files = await listing();
      if (!files.length) throw new Error(`the folder ${name} is empty`);
      pick(await zipFiles(`${name}.zip`, files), `, ${files.length} files packed from the folder`);
    } catch (err) {
      chosen.textContent = '';
      showError(error, `The folder could not be read: ${err.message}`);
    }
  };
  file.addEventListener('change', () => pick(file.files[0]));
  folder.addEventListener('change', () => {
    const { name, files } = pickedFolder(folder.files);
    pickFolder(name, async () => files);
  });
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    error.hidden = true;
    const dir = droppedFolder(e.dataTransfer); // read now: the drop's data is gone once this handler returns
    if (dir) pickFolder(dir.name, () => folderFiles(dir));
    else if (e.dataTransfer.files.length) pick(e.dataTransfer.files[0]);
  });

  let boxes = [];
  const targetSet = h('fieldset', { class: 'targets' }, h('legend', {}, 'Check it for these targets'));
  const inputs = h('input', { type: 'text', id: 'io-inputs', placeholder: 'image:1,224,224,3',
    'aria-describedby': 'io-help' });
  const outputs = h('input', { type: 'text', id: 'io-outputs', placeholder: 'logits', 'aria-describedby': 'io-help' });
  const verify = h('input', { type: 'checkbox', id: 'verify-toggle', name: 'verify', 'aria-describedby': 'verify-help' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const error = h('div', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Check the model');

  const form = h('form', { class: 'upload', 'aria-labelledby': 'upload-title' },
    drop,
    folderPick,
    targetSet,
    h('details', { class: 'io' }, h('summary', {}, 'Inputs and outputs of a frozen graph (optional)'),
      h('p', { id: 'io-help' }, 'Separated by spaces. An input may fix its shape (image:1,224,224,3, where ? is an unknown '
        + 'dimension). Without outputs, the tensors nothing consumes are used.'),
      h('label', { for: 'io-inputs' }, 'Inputs'), inputs,
      h('label', { for: 'io-outputs' }, 'Outputs'), outputs),
    h('div', { class: 'verify-row' }, h('label', { for: 'verify-toggle', class: 'verify' }, verify,
      h('strong', {}, 'Verify'), ' with the real converter, LiteRT and TFLite Micro'),
    h('span', { id: 'verify-help', class: 'thelp' }, 'Slower (seconds per target, after the check); the service '
      + 'needs TensorFlow. Each verdict is then marked confirmed or contradicted.')),
    h('div', { class: 'row' }, submit, status), error);

  loadTargets().then((targets) => {
    boxes = targets.map((t) => h('label', { class: 'target' },
      h('input', { type: 'checkbox', name: 'target', value: t.name, checked: t.default }),
      h('span', { class: 'tname' }, t.name), h('span', { class: 'thelp' }, t.description)));
    targetSet.append(...boxes);
  }).catch((err) => showError(error, `The targets could not be loaded: ${err.message}`));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (!picked) {
      showError(error, 'Choose a model file or folder first.');
      file.focus();
      return;
    }
    const targets = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    if (!targets.length) {
      showError(error, 'Choose at least one target.');
      boxes[0]?.querySelector('input').focus();
      return;
    }
    const split = (s) => s.value.split(/[\s;]+/).filter(Boolean);
    submit.disabled = true;
    status.textContent = `Checking ${picked.name}…`;
    try {
      const report = await uploadModel(picked, { targets, inputs: split(inputs), outputs: split(outputs),
        verify: verify.checked });
      status.textContent = 'Done.';
      onReport(report);
    } catch (err) {
      status.textContent = '';
      if (err.status === 401) {
        onUnauthorized(err);
        return;
      }
      const msg = err.status === 413
        ? `The file is too large for this service: ${err.detail || err.message}`
        : `The check could not run: ${err.detail || err.message}`;
      showError(error, msg);
    } finally {
      submit.disabled = false;
    }
  });

  main.replaceChildren(h('div', { class: 'page upload-page' },
    h('h1', { id: 'upload-title' }, 'Check a model before converting it to TFLite'),
    h('p', { class: 'lead' }, 'graphlint reads your model without TensorFlow and lists every problem the '
      + 'TFLite converter or the runtime would hit, for each target at once: ops without a kernel, missing '
      + 'quantization ranges, dynamic shapes, training leftovers. You then see them on the graph.'),
    form));
}

function showError(el, message) {
  el.textContent = message;
  el.hidden = false;
}
