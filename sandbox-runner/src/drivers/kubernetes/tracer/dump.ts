/**
 * The tracing sidecar's hand-over format. After the target stops, the sidecar prints to its own
 * log one framed block; the driver reads the pod log and decodes it:
 *
 *   VEXXY-TRACE-BEGIN v1
 *   <base64 of a gzipped ustar archive, wrapped at any width>
 *   VEXXY-TRACE-END sha256=<hex digest of the gzipped archive>
 *
 * The archive holds strace's `-ff -y` files (`t.<pid>`) and a `meta` file of key=value lines.
 * The digest detects truncation (kubelet log rotation, a killed sidecar): a bad block is "no trace".
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { readTar } from "./tar.js";

const BEGIN_MARKER = "VEXXY-TRACE-BEGIN v1";
const END_MARKER_PREFIX = "VEXXY-TRACE-END sha256=";

interface TraceDump {
  /** pid → strace output of that process. */
  files: Map<number, string>;
  meta: Record<string, string>;
  /** The sidecar's image snapshot: files under image/ (path without the prefix → contents). */
  image: Map<string, Buffer>;
}

export type DecodeResult = { ok: true; dump: TraceDump } | { ok: false; reason: string };

export function decodeTraceDump(log: string): DecodeResult {
  const lines = log.split(/\r?\n/);
  const begin = lines.lastIndexOf(BEGIN_MARKER);
  if (begin < 0) return { ok: false, reason: "the tracer printed no trace block" };
  const endAt = lines.findIndex((l, i) => i > begin && l.startsWith(END_MARKER_PREFIX));
  if (endAt < 0) return { ok: false, reason: "the trace block is truncated (no end marker)" };
  const expected = lines[endAt]!.slice(END_MARKER_PREFIX.length).trim();
  const gz = Buffer.from(lines.slice(begin + 1, endAt).join(""), "base64");
  const actual = createHash("sha256").update(gz).digest("hex");
  if (actual !== expected) return { ok: false, reason: "the trace block is corrupt (digest mismatch)" };
  let entries: Map<string, Buffer>;
  try {
    entries = readTar(gunzipSync(gz));
  } catch (err) {
    return { ok: false, reason: `the trace archive is unreadable: ${(err as Error).message}` };
  }
  const files = new Map<number, string>();
  const meta: Record<string, string> = {};
  const image = new Map<string, Buffer>();
  for (const [name, data] of entries) {
    const base = name.replace(/^(\.\/)+/, "");
    const m = /^t\.(\d+)$/.exec(base);
    if (m) files.set(Number(m[1]), data.toString("utf8"));
    else if (base.startsWith("image/")) image.set(base.slice("image/".length), data);
    else if (base === "meta") {
      for (const line of data.toString("utf8").split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) meta[line.slice(0, eq)] = line.slice(eq + 1);
      }
    }
  }
  return { ok: true, dump: { files, meta, image } };
}
