/**
 * What the kernel runs when an image file is executed, read from the file's first bytes: an ELF
 * executable's PT_INTERP program header (the loader the kernel maps itself), or a script's `#!`
 * line (the interpreter the kernel runs instead). Neither shows up as a syscall in any trace.
 */
import type { FileHandle } from "node:fs/promises";
import type { ExecutableInfo } from "../reachability/types.js";

const PT_INTERP = 3;
/** The kernel reads this much of a script for its #! line (BINPRM_BUF_SIZE since Linux 5.1). */
const SHEBANG_BYTES = 256;
const MAX_INTERP = 4096;

const HEAD_BYTES = 4096;

export async function readExecutableInfo(file: FileHandle): Promise<ExecutableInfo> {
  const head = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await file.read(head, 0, HEAD_BYTES, 0);
  const buf = head.subarray(0, bytesRead);
  const fromHead = executableInfoFromHead(buf, bytesRead < HEAD_BYTES);
  if (fromHead) return fromHead;
  return elf(buf, file);
}

/**
 * The same from the file's first bytes alone (the Kubernetes tracer ships only those). null when
 * the answer lies beyond them (a program header table or interpreter string further in) — the
 * caller then knows nothing, which the engine treats conservatively.
 */
export function executableInfoFromHead(buf: Buffer, wholeFile: boolean): ExecutableInfo | null {
  if (buf.length >= 2 && buf[0] === 0x23 && buf[1] === 0x21) return shebang(buf.subarray(0, SHEBANG_BYTES));
  if (!(buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46)) return wholeFile || buf.length >= 4 ? { kind: "other" } : null;
  return elfFrom(buf, (offset, len) => (offset + len <= buf.length ? buf.subarray(offset, offset + len) : null));
}

/** `#!/usr/bin/env python3 -u` → interpreter /usr/bin/env, arg "python3 -u" (Linux passes the rest as one argument). */
export function shebang(buf: Buffer): ExecutableInfo {
  const nl = buf.indexOf(0x0a);
  const line = buf.subarray(2, nl < 0 ? buf.length : nl).toString("latin1").replace(/\r$/, "").trim();
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m) return { kind: "other" };
  return { kind: "script", interpreter: m[1]!, ...(m[2] ? { arg: m[2].trim() } : {}) };
}

type ReadAt = (offset: number, length: number) => Buffer | null;

/** PT_INTERP from the ELF header and program headers; null when a read falls outside what `read` can give. */
function elfFrom(head: Buffer, read: ReadAt): ExecutableInfo | null {
  const is64 = head[4] === 2;
  const le = head[5] !== 2;
  if (head.length < (is64 ? 64 : 52)) return null;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const uN = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  const phoff = uN(head, is64 ? 32 : 28);
  const phentsize = u16(head, is64 ? 54 : 42);
  const phnum = u16(head, is64 ? 56 : 44);
  if (phnum === 0 || phentsize < (is64 ? 56 : 32) || phnum > 512) return { kind: "elf", interpreter: null };
  const table = read(phoff, phentsize * phnum);
  if (!table) return null;
  for (let i = 0; i < phnum; i++) {
    const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (u32(ph, 0) !== PT_INTERP) continue;
    const size = Math.min(uN(ph, is64 ? 32 : 16), MAX_INTERP);
    const s = read(uN(ph, is64 ? 8 : 4), size);
    if (!s) return null;
    const nul = s.indexOf(0);
    const interpreter = s.subarray(0, nul < 0 ? s.length : nul).toString("latin1");
    return { kind: "elf", interpreter: interpreter || null };
  }
  return { kind: "elf", interpreter: null };
}

/** The slow path for binaries whose program headers or interpreter lie past the first read. */
async function elf(head: Buffer, file: FileHandle): Promise<ExecutableInfo> {
  const stat = await file.stat();
  const whole = Buffer.alloc(Math.min(stat.size, 64 * 1024 * 1024));
  const { bytesRead } = await file.read(whole, 0, whole.length, 0);
  const buf = whole.subarray(0, bytesRead);
  return elfFrom(buf.length >= head.length ? buf : head, (o, l) => (o + l <= buf.length ? buf.subarray(o, o + l) : null)) ?? { kind: "elf", interpreter: null };
}
