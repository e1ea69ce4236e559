import { describe, expect, it } from "vitest";
import { SymlinkResolver, normalisePath, pycToSource } from "../../src/reachability/paths.js";

describe("paths", () => {
  it("normalises without touching the filesystem", () => {
    expect(normalisePath("usr//lib/./x/../libz.so.1")).toBe("/usr/lib/libz.so.1");
    expect(normalisePath("/a/b/")).toBe("/a/b");
    expect(normalisePath("/../..")).toBe("/");
  });

  it("maps CPython bytecode to its source", () => {
    expect(pycToSource("/sp/pkg/__pycache__/mod.cpython-311.pyc")).toBe("/sp/pkg/mod.py");
    expect(pycToSource("/sp/pkg/__pycache__/mod.cpython-312.opt-1.pyc")).toBe("/sp/pkg/mod.py");
    expect(pycToSource("/sp/pkg/__pycache__/mod.pypy39.pyc")).toBe("/sp/pkg/mod.py");
    expect(pycToSource("/sp/pkg/__pycache__/mod.pypy310-pp73.opt-2.pyc")).toBe("/sp/pkg/mod.py");
    // Python 2 / `compileall -b`: the bytecode sits beside its source.
    expect(pycToSource("/sp/pkg/mod.pyc")).toBe("/sp/pkg/mod.py");
    expect(pycToSource("/sp/pkg/__pycache__/odd.pyc")).toBeUndefined();
  });

  it("resolves directory links (merged-usr), relative targets and chains; dir() keeps the last component", () => {
    const r = new SymlinkResolver(
      new Map([
        ["/lib", "usr/lib"],
        ["/usr/lib/libz.so.1", "libz.so.1.2.13"],
        ["/bin", "/usr/bin"],
        ["/usr/bin/sh", "busybox"],
      ]),
    );
    expect(r.dir("/lib/libz.so.1")).toBe("/usr/lib/libz.so.1");
    expect(r.full("/lib/libz.so.1")).toBe("/usr/lib/libz.so.1.2.13");
    expect(r.full("/bin/sh")).toBe("/usr/bin/busybox");
    expect(r.dir("/bin/sh")).toBe("/usr/bin/sh");
  });

  it("survives symlink loops", () => {
    const r = new SymlinkResolver(new Map([["/a", "/b"], ["/b", "/a"]]));
    expect(typeof r.full("/a/x")).toBe("string");
  });
});
