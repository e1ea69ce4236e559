/** The image's own package databases: dpkg (classic and distroless), apk, Python RECORD, node_modules. */
import { describe, expect, it } from "vitest";
import { inventoryFromImageFiles, mergeInventories } from "../../src/reachability/index.js";

const STATUS = `Package: zlib1g
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
 zlib is a library implementing the deflate compression method found
 in gzip and PKZIP.

Package: libssl3
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2

Package: oldpkg
Status: deinstall ok config-files
Architecture: all
Version: 0.1
`;

describe("dpkg", () => {
  const inv = inventoryFromImageFiles(
    new Map([
      ["/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'],
      ["/var/lib/dpkg/status", STATUS],
      // Multi-Arch: same packages keep their list as <name>:<arch>.list.
      ["/var/lib/dpkg/info/zlib1g:amd64.list", "/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libz.so.1.2.13\n/usr/lib/x86_64-linux-gnu/libz.so.1\n"],
      ["/var/lib/dpkg/info/libssl3.list", "/usr/lib/x86_64-linux-gnu/libssl.so.3\n"],
    ]),
  );

  it("reads installed packages with their .list files, minus directories; skips removed ones", () => {
    expect(inv.packages.map((p) => p.name)).toEqual(["zlib1g", "libssl3"]);
    const z = inv.packages[0]!;
    expect(z.files.sort()).toEqual(["/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"]);
    expect(z.purl).toBe("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64");
    expect(z.version).toBe("1:1.2.13.dfsg-1");
    expect(inv.formats).toEqual(["dpkg"]);
  });

  it("reads distroless status.d with md5sums", () => {
    const d = inventoryFromImageFiles(
      new Map([
        ["/var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n"],
        ["/var/lib/dpkg/status.d/libc6.md5sums", "0f1e2d3c4b5a69788796a5b4c3d2e1f0  lib/x86_64-linux-gnu/libc.so.6\nabcdef0123456789abcdef0123456789  usr/share/doc/libc6/copyright\n"],
      ]),
    );
    expect(d.packages).toHaveLength(1);
    expect(d.packages[0]!.files).toEqual(["/lib/x86_64-linux-gnu/libc.so.6", "/usr/share/doc/libc6/copyright"]);
  });
});

describe("apk", () => {
  it("reads P/V/A and F/R into absolute file paths", () => {
    const db = "C:Q1abc=\nP:musl\nV:1.2.3-r4\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.35.0-r29\nA:x86_64\nF:bin\nR:busybox\nF:etc\nR:securetty\n";
    const inv = inventoryFromImageFiles(new Map([["/lib/apk/db/installed", db], ["/etc/os-release", "ID=alpine\n"]]));
    expect(inv.packages.map((p) => [p.name, p.version, p.files])).toEqual([
      ["musl", "1.2.3-r4", ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]],
      ["busybox", "1.35.0-r29", ["/bin/busybox", "/etc/securetty"]],
    ]);
    expect(inv.packages[0]!.purl).toBe("pkg:apk/alpine/musl@1.2.3-r4?arch=x86_64");
  });
});

describe("Python dist-info", () => {
  it("reads RECORD (with quoted paths) relative to site-packages and METADATA's name", () => {
    const sp = "/usr/local/lib/python3.12/site-packages";
    const inv = inventoryFromImageFiles(
      new Map([
        [`${sp}/PyYAML-6.0.1.dist-info/RECORD`, `yaml/__init__.py,sha256=x,12\n"yaml/odd,name.py",sha256=y,3\n../../../bin/yamltool,sha256=z,9\n`],
        [`${sp}/PyYAML-6.0.1.dist-info/METADATA`, "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\n"],
      ]),
    );
    const p = inv.packages[0]!;
    expect(p).toMatchObject({ name: "PyYAML", version: "6.0.1", ecosystem: "pypi", purl: "pkg:pypi/pyyaml@6.0.1" });
    expect(p.files).toEqual([`${sp}/yaml/__init__.py`, `${sp}/yaml/odd,name.py`, "/usr/local/bin/yamltool"]);
  });
});

describe("node_modules", () => {
  it("reads top-level, scoped and nested packages; a package owns its directory", () => {
    const inv = inventoryFromImageFiles(
      new Map([
        ["/srv/node_modules/@babel/core/package.json", JSON.stringify({ name: "@babel/core", version: "7.23.0" })],
        ["/srv/node_modules/lodash/package.json", JSON.stringify({ name: "lodash", version: "4.17.21" })],
        ["/srv/node_modules/lodash/fp/package.json", JSON.stringify({ main: "../fp.js" })], // not a package root
        ["/srv/node_modules/broken/package.json", "{"],
      ]),
    );
    expect(inv.packages.map((p) => [p.name, p.purl, p.dirs])).toEqual([
      ["@babel/core", "pkg:npm/%40babel/core@7.23.0", ["/srv/node_modules/@babel/core"]],
      ["lodash", "pkg:npm/lodash@4.17.21", ["/srv/node_modules/lodash"]],
    ]);
    expect(inv.notes.join(" ")).toContain("1 node_modules package.json");
  });

  it("two installs of the same version merge into one package with both directories", () => {
    const pj = JSON.stringify({ name: "ms", version: "2.1.3" });
    const a = inventoryFromImageFiles(new Map([["/a/node_modules/ms/package.json", pj]]));
    const b = inventoryFromImageFiles(new Map([["/b/node_modules/ms/package.json", pj]]));
    const m = mergeInventories(a, b);
    expect(m.packages).toHaveLength(1);
    expect(m.packages[0]!.dirs).toEqual(["/a/node_modules/ms", "/b/node_modules/ms"]);
    // The inputs are not modified.
    expect(a.packages[0]!.dirs).toEqual(["/a/node_modules/ms"]);
  });
});
