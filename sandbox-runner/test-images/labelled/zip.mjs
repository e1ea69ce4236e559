// A minimal reader for zip archives (jars): the central directory's entries and their contents.
import { inflateRawSync } from "node:zlib";

/** Returns Map<entry name, () => Buffer> for a zip archive in `buf`. */
export function readZip(buf) {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = new Map();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error("corrupt central directory");
    const method = buf.readUInt16LE(at + 10);
    const compressed = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLen);
    entries.set(name, () => {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const data = buf.subarray(start, start + compressed);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${name}: compression method ${method} not supported`);
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** `key=value` lines (java.util.Properties, without escapes: enough for pom.properties). */
export function parseProperties(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** META-INF/MANIFEST.MF main section as [{key, value}] in file order (continuation lines joined). */
export function parseManifestMain(text) {
  const lines = text.split(/\r?\n/);
  const joined = [];
  for (const line of lines) {
    if (line === "") break; // end of the main section
    if (line.startsWith(" ") && joined.length) joined[joined.length - 1] += line.slice(1);
    else joined.push(line);
  }
  return joined
    .map((l) => /^([^:]+):\s?(.*)$/.exec(l))
    .filter(Boolean)
    .map((m) => ({ key: m[1], value: m[2] }));
}
