/** The sidecar's hand-over block, built with the same tools the sidecar uses, decoded by the driver. */
import { describe, expect, it } from "vitest";
import { decodeTraceDump } from "../../src/drivers/kubernetes/tracer/dump.js";
import { SIDECAR_SCRIPT } from "../../src/drivers/kubernetes/tracer/sidecar-script.js";
import { sidecarDump, STRACE_NGINX } from "./harness.js";

describe("sidecar trace block", () => {
  const block = sidecarDump({ "t.7": STRACE_NGINX, "t.12": "exit_group(0) = ?\n" }, { from_first_exec: "1", complete: "0" });

  it("round-trips strace files and meta through tar, gzip and base64", () => {
    const r = decodeTraceDump(`strace: Process 7 attached\n${block}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([...r.dump.files.keys()].sort()).toEqual([12, 7]);
    expect(r.dump.files.get(7)).toBe(STRACE_NGINX);
    expect(r.dump.meta).toMatchObject({ from_first_exec: "1", complete: "0" });
  });

  it("rejects a block cut short by log rotation or a killed sidecar", () => {
    const lines = block.trimEnd().split("\n");
    expect(decodeTraceDump(lines.slice(0, -1).join("\n"))).toEqual({ ok: false, reason: "the trace block is truncated (no end marker)" });
    expect(decodeTraceDump(lines.slice(1).join("\n")).ok).toBe(false);
  });

  it("rejects a corrupted block by its digest", () => {
    const lines = block.trimEnd().split("\n");
    lines[1] = lines[1]!.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    expect(decodeTraceDump(lines.join("\n"))).toEqual({ ok: false, reason: "the trace block is corrupt (digest mismatch)" });
  });

  it("the sidecar script prints the markers the decoder expects and attaches with -ff -y", () => {
    expect(SIDECAR_SCRIPT).toContain('echo "VEXXY-TRACE-BEGIN v1"');
    expect(SIDECAR_SCRIPT).toContain('echo "VEXXY-TRACE-END sha256=$sum"');
    expect(SIDECAR_SCRIPT).toMatch(/strace -f -ff -y /);
  });
});
