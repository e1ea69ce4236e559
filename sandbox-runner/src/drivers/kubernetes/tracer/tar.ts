/** A minimal ustar reader for regular files (what busybox/GNU `tar c` writes for a flat directory). */

const BLOCK = 512;

function field(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString("utf8");
}

/** name → contents of every regular file; throws on a malformed archive. */
export function readTar(archive: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= archive.length) {
    const header = archive.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) break;
    const sizeField = field(header, 124, 12).trim();
    if (!/^[0-7]*$/.test(sizeField)) throw new Error(`bad size field at offset ${off}`);
    const size = sizeField ? parseInt(sizeField, 8) : 0;
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const dataStart = off + BLOCK;
    if (dataStart + size > archive.length) throw new Error(`entry ${name} runs past the end`);
    const data = archive.subarray(dataStart, dataStart + size);
    longName = undefined;
    if (type === "L") longName = field(data, 0, data.length);
    else if (type === "0" || type === "\0") out.set(name, Buffer.from(data));
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
