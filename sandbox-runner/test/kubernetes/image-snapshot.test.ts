/**
 * The tracing sidecar reads the image through the running target's /proc/<pid>/root. Here its
 * snapshot_root shell function runs for real (host sh, GNU find and tar) on an unpacked root, the
 * result travels in the trace block exactly as the sidecar prints it, and the driver decodes it
 * into what the podman driver reads from an image mount.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSidecarLog } from "../../src/drivers/kubernetes/tracer/sidecar.js";
import { SIDECAR_SCRIPT, SNAPSHOT_ROOT } from "../../src/drivers/kubernetes/tracer/sidecar-script.js";
import { readImageRoot } from "../../src/image/root-fs.js";
import { STRACE_NGINX } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "vexxy-snap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeRoot(root: string): void {
  for (const d of ["usr/bin", "usr/lib/x86_64-linux-gnu", "var/lib/dpkg/info", "srv", "proc/1", "etc"]) mkdirSync(join(root, d), { recursive: true });
  symlinkSync("usr/bin", join(root, "bin"));
  symlinkSync("usr/lib", join(root, "lib"));
  writeFileSync(join(root, "etc/os-release"), "ID=debian\n");
  writeFileSync(join(root, "var/lib/dpkg/status"), "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2\n");
  writeFileSync(join(root, "var/lib/dpkg/info/bash.list"), "/bin/bash\n");
  copyFileSync("/bin/ls", join(root, "usr/bin/bash"));
  chmodSync(join(root, "usr/bin/bash"), 0o755);
  writeFileSync(join(root, "srv/entrypoint.sh"), "#!/bin/bash\nexec sleep 1\n", { mode: 0o755 });
  writeFileSync(join(root, "proc/1/ignored"), "procfs of the target is never walked");
}

/** What the sidecar prints: its out/ directory (strace files, meta, image/) as a framed block. */
function sidecarBlock(out: string): string {
  writeFileSync(join(out, "t.7"), STRACE_NGINX);
  writeFileSync(join(out, "meta"), "from_first_exec=1\ncomplete=1\nduration_ms=1000\nattached=7\n");
  return execFileSync("sh", ["-c", `tar -czf "${dir}/t.tgz" -C "${out}" . && s=$(sha256sum "${dir}/t.tgz" | cut -d' ' -f1) && echo "VEXXY-TRACE-BEGIN v1" && base64 "${dir}/t.tgz" && echo "VEXXY-TRACE-END sha256=$s"`], {
    encoding: "utf8",
  });
}

const hasGnuFind = (() => {
  try {
    return execFileSync("find", ["--version"], { encoding: "utf8" }).includes("GNU findutils");
  } catch {
    return false;
  }
})();

describe.runIf(hasGnuFind && existsSync("/bin/ls"))("the sidecar's image snapshot", () => {
  it("reads paths, links, package databases and executables as the image mount reader does", async () => {
    const root = join(dir, "root");
    makeRoot(root);
    const out = join(dir, "out");
    mkdirSync(out, { recursive: true });
    execFileSync("sh", ["-c", `${SNAPSHOT_ROOT}\nsnapshot_root "$1" "$2"`, "sh", root, join(out, "image")]);
    const { trace, image } = readSidecarLog(sidecarBlock(out), 0);
    expect(trace.execs[0]?.path).toBe("/usr/sbin/nginx");
    expect(image).not.toBeNull();

    const mount = await readImageRoot(root);
    expect(image!.paths).toEqual(mount.paths);
    expect(image!.symlinks).toEqual(mount.symlinks);
    expect(image!.files).toEqual(mount.files);
    expect(image!.executables).toEqual(mount.executables);
    expect(image!.executables.get("/srv/entrypoint.sh")).toEqual({ kind: "script", interpreter: "/bin/bash" });
  });

  it("a snapshot cut short (no completion marker) is not used", () => {
    const out = join(dir, "out2");
    mkdirSync(join(out, "image"), { recursive: true });
    writeFileSync(join(out, "image/paths"), "f\t755\tusr/bin/bash\t\n");
    expect(readSidecarLog(sidecarBlock(out), 0).image).toBeNull();
  });

  it("is the function the sidecar runs", () => {
    expect(SIDECAR_SCRIPT).toContain(SNAPSHOT_ROOT);
    expect(SIDECAR_SCRIPT).toContain('snapshot_root "/proc/$first/root" "$OUT/image"');
    expect(readFileSync(join(dir, "root/var/lib/dpkg/status"), "utf8")).toContain("bash");
  });
});
