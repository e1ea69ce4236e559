/**
 * Reading an unpacked root filesystem: package databases, paths, links (read, not followed) and
 * what the kernel runs for each executable — checked against `readelf -l` of the host's own binaries.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readExecutableInfo, shebang } from "../../src/image/executables.js";
import { readImageRoot } from "../../src/image/root-fs.js";

const root = mkdtempSync(join(tmpdir(), "vexxy-rootfs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** PT_INTERP as binutils prints it: "[Requesting program interpreter: /lib64/ld-linux-x86-64.so.2]". */
function readelfInterpreter(path: string): string | null {
  const out = execFileSync("readelf", ["-lW", path], { encoding: "utf8" });
  return /Requesting program interpreter: ([^\]]+)\]/.exec(out)?.[1] ?? null;
}

const hasReadelf = (() => {
  try {
    execFileSync("readelf", ["--version"]);
    return true;
  } catch {
    return false;
  }
})();

describe("executables", () => {
  it.runIf(hasReadelf)("reads PT_INTERP the way readelf does, for a dynamic and (if present) a static binary", async () => {
    const bins = ["/bin/ls", "/usr/bin/env", process.execPath, "/bin/busybox"].filter((b) => existsSync(b));
    expect(bins.length).toBeGreaterThan(1);
    for (const bin of bins) {
      const fh = await open(bin, "r");
      try {
        const info = await readExecutableInfo(fh);
        expect(info, bin).toEqual({ kind: "elf", interpreter: readelfInterpreter(bin) });
      } finally {
        await fh.close();
      }
    }
  });

  it("reads #! lines as the kernel does: one interpreter, the rest as one argument", () => {
    expect(shebang(Buffer.from("#!/bin/bash\necho hi\n"))).toEqual({ kind: "script", interpreter: "/bin/bash" });
    expect(shebang(Buffer.from("#! /usr/bin/env python3 -u\r\nprint(1)"))).toEqual({ kind: "script", interpreter: "/usr/bin/env", arg: "python3 -u" });
    expect(shebang(Buffer.from("#!\n"))).toEqual({ kind: "other" });
  });
});

describe("readImageRoot", () => {
  it("collects package databases, every path, links as stored, and executables", async () => {
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    mkdirSync(join(root, "var/lib/dpkg/info"), { recursive: true });
    mkdirSync(join(root, "srv"), { recursive: true });
    symlinkSync("usr/bin", join(root, "bin"));
    writeFileSync(join(root, "var/lib/dpkg/status"), "Package: bash\nStatus: install ok installed\nVersion: 5.2\n");
    writeFileSync(join(root, "var/lib/dpkg/info/bash.list"), "/bin/bash\n");
    copyFileSync("/bin/ls", join(root, "usr/bin/bash"));
    chmodSync(join(root, "usr/bin/bash"), 0o755);
    writeFileSync(join(root, "srv/entrypoint.sh"), "#!/bin/bash\nexec /usr/bin/bash\n", { mode: 0o755 });
    writeFileSync(join(root, "srv/data.sh"), "#!/bin/sh\n", { mode: 0o644 }); // not executable: not listed
    symlinkSync("/etc/passwd", join(root, "srv/escape")); // absolute link: read, never followed to the host

    const snap = await readImageRoot(root);
    expect(snap.files.get("/var/lib/dpkg/status")).toContain("Package: bash");
    expect(snap.files.has("/var/lib/dpkg/info/bash.list")).toBe(true);
    expect(snap.symlinks.get("/bin")).toBe("usr/bin");
    expect(snap.symlinks.get("/srv/escape")).toBe("/etc/passwd");
    expect(snap.paths.has("/usr/bin/bash")).toBe(true);
    expect(snap.executables.get("/srv/entrypoint.sh")).toEqual({ kind: "script", interpreter: "/bin/bash" });
    expect(snap.executables.get("/usr/bin/bash")?.kind).toBe("elf");
    expect(snap.executables.has("/srv/data.sh")).toBe(false);
  });
});
