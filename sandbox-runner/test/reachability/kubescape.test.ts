/** Kubescape ContainerProfile → RuntimeTrace, on the nginx 1.14 profile Kubescape recorded. */
import { describe, expect, it } from "vitest";
import { analyzeReachability, inventoryFromImageFiles } from "../../src/reachability/index.js";
import { KubescapeProfileError, readKubescapeProfile, traceFromKubescapeProfile } from "../../src/trace/kubescape.js";
import { HEALTHY, ON, fixture } from "./helpers.js";

type Profile = {
  metadata: { annotations: Record<string, string> };
  spec: { opens: { path: string; flags: string[] }[]; execs: { path: string; args: string[] }[]; syscalls: string[] };
};
const profile = fixture("kubescape/nginx-1.14-container-profile.json") as Profile;

describe("Kubescape ContainerProfile", () => {
  const t = traceFromKubescapeProfile(profile);

  it("turns every open and exec into an event, and every syscall into a count", () => {
    expect(t.source).toBe("kubescape");
    expect(t.opens).toHaveLength(profile.spec.opens.length);
    expect(t.execs.map((e) => e.path)).toEqual(profile.spec.execs.map((e) => e.path));
    expect(t.execs[0]!.argv).toEqual(profile.spec.execs[0]!.args);
    expect(Object.keys(t.syscall_counts).sort()).toEqual([...new Set(profile.spec.syscalls)].sort());
    const conf = profile.spec.opens.find((o) => o.path === "/etc/nginx/conf.d")!;
    expect(t.opens.find((o) => o.path === conf.path)!.flags).toBe(conf.flags.join("|"));
    expect(t.mmaps).toEqual([]);
  });

  it("is from_first_exec only if completion says complete, and complete only once learning completed", () => {
    const ann = profile.metadata.annotations;
    expect(t.from_first_exec).toBe(ann["kubescape.io/completion"] === "complete");
    expect(t.complete).toBe(ann["kubescape.io/completion"] === "complete" && ann["kubescape.io/status"] === "completed");
    const partial = structuredClone(profile);
    partial.metadata.annotations["kubescape.io/completion"] = "partial";
    partial.metadata.annotations["kubescape.io/status"] = "completed";
    expect(traceFromKubescapeProfile(partial)).toMatchObject({ from_first_exec: false, complete: false });
    const done = structuredClone(profile);
    done.metadata.annotations["kubescape.io/completion"] = "complete";
    done.metadata.annotations["kubescape.io/status"] = "completed";
    expect(traceFromKubescapeProfile(done)).toMatchObject({ from_first_exec: true, complete: true });
  });

  it("drops collapsed wildcard paths and says so", () => {
    const p = structuredClone(profile);
    p.spec.opens.push({ path: "/proc/⋯/status", flags: ["O_RDONLY"] });
    const k = readKubescapeProfile(p);
    expect(k.trace.opens).toHaveLength(profile.spec.opens.length);
    expect(k.notes.join(" ")).toContain("1 collapsed");
  });

  it("rejects what is not a profile", () => {
    expect(() => traceFromKubescapeProfile({ kind: "Pod" })).toThrow(KubescapeProfileError);
  });

  it("with a dpkg inventory: nginx executed → affected; libz only opened (no mmaps recorded) → under_investigation", () => {
    const inv = inventoryFromImageFiles(
      new Map([
        ["/var/lib/dpkg/status", "Package: nginx\nStatus: install ok installed\nVersion: 1.14.2-1~stretch\nArchitecture: amd64\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.8.dfsg-5\nArchitecture: amd64\n\nPackage: tzdata\nStatus: install ok installed\nVersion: 2019a-0+deb9u1\nArchitecture: all\n"],
        ["/var/lib/dpkg/info/nginx.list", "/usr/sbin/nginx\n/etc/nginx/nginx.conf\n"],
        ["/var/lib/dpkg/info/zlib1g:amd64.list", "/lib/x86_64-linux-gnu/libz.so.1.2.8\n/lib/x86_64-linux-gnu/libz.so.1\n"],
        ["/var/lib/dpkg/info/tzdata.list", "/usr/share/zoneinfo/UTC\n"],
      ]),
    );
    const vulns = inv.packages.map((p) => ({ id: `CVE-${p.name}`, aliases: [], package: { name: p.name, version: p.version }, fixVersions: [], fixState: "unknown" as const, source: "grype" as const }));
    const r = analyzeReachability({ inventory: inv, vulnerabilities: vulns, trace: t, health: HEALTHY, verdicts: ON });
    const by = (n: string) => r.decisions.find((d) => d.package.name === n)!;
    expect(by("nginx").status).toBe("affected");
    expect(by("zlib1g").status).toBe("under_investigation");
    expect(by("zlib1g").reason).toContain("opened");
    // The profile is still learning (status "ready"): untouched tzdata is not claimed not_affected.
    expect(by("tzdata").status).toBe("under_investigation");
    expect(r.notes.join(" ")).toContain("no memory mappings");
  });
});
