// A SavedModel folder, dropped or picked in the browser, packed into one .zip for the service (which unpacks it
// as it unpacks any SavedModel archive). A minimal zip writer: deflate through the browser's CompressionStream,
// stored when that does not help; no zip64, so at most 65,535 files of under 4 GiB each.

const MAX_ENTRIES = 0xffff;
const MAX_BYTES = 0xffffffff;
// The service refuses an entry that unpacks to more than 200 times its packed size (a zip bomb); a file of zeros
// deflates past that, so such a file is stored instead.
const MAX_RATIO = 100;
const UTF8_NAMES = 0x0800;
const DOS_DATE_1980 = 0x0021; // 1980-01-01, 00:00: the bytes do not depend on when the folder was packed

/** One file of a folder, by its path inside the zip (with `/`). */
export interface FolderFile {
  path: string;
  file: File;
}

interface Entry {
  name: Uint8Array<ArrayBuffer>;
  crc: number;
  size: number;
  method: number; // 8: deflated, 0: stored
  body: Uint8Array<ArrayBuffer>;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function deflateRaw(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer> | null> {
  if (typeof CompressionStream === 'undefined') return null;
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** How one file is written: deflated when that is smaller and within the ratio the service accepts. */
async function packEntry(path: string, file: File): Promise<Entry> {
  const data = new Uint8Array(await file.arrayBuffer());
  if (data.length > MAX_BYTES) throw new Error(`${path} is 4 GiB or more, too large to send from the browser`);
  const deflated = data.length ? await deflateRaw(data) : null;
  const useDeflate = deflated !== null && deflated.length < data.length
    && data.length <= deflated.length * MAX_RATIO;
  return { name: new TextEncoder().encode(path), crc: crc32(data), size: data.length,
    method: useDeflate ? 8 : 0, body: useDeflate ? deflated : data };
}

/** A little-endian record: the 4-byte signature, then each [value, width in bytes]. */
function header(signature: number, fields: [number, 2 | 4][]): Uint8Array<ArrayBuffer> {
  const size = 4 + fields.reduce((n, [, width]) => n + width, 0);
  const view = new DataView(new ArrayBuffer(size));
  view.setUint32(0, signature, true);
  let at = 4;
  for (const [value, width] of fields) {
    if (width === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value, true);
    at += width;
  }
  return new Uint8Array(view.buffer);
}

function localHeader(e: Entry): Uint8Array<ArrayBuffer> {
  return header(0x04034b50, [[20, 2], [UTF8_NAMES, 2], [e.method, 2], [0, 2], [DOS_DATE_1980, 2], [e.crc, 4],
    [e.body.length, 4], [e.size, 4], [e.name.length, 2], [0, 2]]);
}

function centralHeader(e: Entry, offset: number): Uint8Array<ArrayBuffer> {
  return header(0x02014b50, [[20, 2], [20, 2], [UTF8_NAMES, 2], [e.method, 2], [0, 2], [DOS_DATE_1980, 2],
    [e.crc, 4], [e.body.length, 4], [e.size, 4], [e.name.length, 2], [0, 2], [0, 2], [0, 2], [0, 2], [0, 4],
    [offset, 4]]);
}

/** A zip File named `name` holding `files`. */
export async function zipFiles(name: string, files: FolderFile[]): Promise<File> {
  if (files.length > MAX_ENTRIES) {
    throw new Error(`the folder holds ${files.length} files, more than a zip made in the browser can hold`);
  }
  const parts: BlobPart[] = [];
  const central: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (const { path, file } of files) {
    const e = await packEntry(path, file);
    if (offset > MAX_BYTES) throw new Error('the folder is 4 GiB or more, too large to send from the browser');
    central.push(centralHeader(e, offset), e.name);
    const local = localHeader(e);
    parts.push(local, e.name, e.body);
    offset += local.length + e.name.length + e.body.length;
  }
  const centralSize = central.reduce((n, p) => n + p.length, 0);
  const end = header(0x06054b50, [[0, 2], [0, 2], [files.length, 2], [files.length, 2], [centralSize, 4],
    [offset, 4], [0, 2]]);
  return new File([...parts, ...central, end], name, { type: 'application/zip' });
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every file under a dropped directory entry, with `dir/...` paths. */
export async function folderFiles(dir: FileSystemDirectoryEntry, prefix = `${dir.name}/`): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  const reader = dir.createReader();
  for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
    for (const entry of batch) {
      if (entry.isDirectory) out.push(...await folderFiles(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`));
      else if (entry.isFile) out.push({ path: `${prefix}${entry.name}`, file: await entryFile(entry as FileSystemFileEntry) });
    }
  }
  return out;
}

/** The files a folder picker (`<input webkitdirectory>`) gave, and the folder's name. */
export function pickedFolder(fileList: FileList | null): { name: string; files: FolderFile[] } {
  const files = [...(fileList ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  const name = files[0]?.path.split('/')[0] ?? 'folder';
  return { name, files };
}

/** The dropped directory entry, if the first dropped item is a folder (else null: a file was dropped). */
export function droppedFolder(dataTransfer: DataTransfer | null): FileSystemDirectoryEntry | null {
  const item = dataTransfer?.items[0];
  // webkitGetAsEntry is missing from some browsers' DataTransferItem, whatever the DOM types say
  const entry = item && typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
  return entry?.isDirectory ? entry as FileSystemDirectoryEntry : null;
}
