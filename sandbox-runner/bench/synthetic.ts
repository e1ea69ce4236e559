/**
 * Deterministic synthetic inputs for the engine benchmark: a Syft JSON document, a Grype JSON
 * document and a RuntimeTrace, sized by package/file/event/vulnerability counts.
 */
import type { RuntimeTrace } from "../src/trace/types.js";

export interface BenchSize {
  packages: number;
  filesPerPackage: number;
  events: number;
  vulnerabilities: number;
}

/** Small, fast, seedable PRNG (mulberry32) so every run measures the same input. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIRS = ["/usr/lib", "/usr/bin", "/usr/share", "/usr/lib/python3.11/site-packages", "/opt/app/lib"];

function fileOf(pkg: number, j: number): string {
  const dir = DIRS[(pkg + j) % DIRS.length]!;
  return j === 0 ? `${dir}/pkg${pkg}/bin${pkg}` : `${dir}/pkg${pkg}/file${j}${j % 3 === 0 ? ".so.1" : j % 3 === 1 ? ".py" : ".dat"}`;
}

export function syntheticSyft(size: BenchSize): unknown {
  const artifacts = [];
  for (let i = 0; i < size.packages; i++) {
    const files = [];
    for (let j = 0; j < size.filesPerPackage; j++) files.push({ path: fileOf(i, j), digest: { algorithm: "sha1", value: "0" } });
    artifacts.push({
      id: `id${i}`,
      name: `pkg${i}`,
      version: `1.${i % 10}.0-r0`,
      type: "apk",
      purl: `pkg:apk/alpine/pkg${i}@1.${i % 10}.0-r0?arch=x86_64`,
      locations: [{ path: "/lib/apk/db/installed" }],
      metadataType: "apk-db-entry",
      metadata: { package: `pkg${i}`, files },
    });
  }
  return { artifacts, artifactRelationships: [], files: [], schema: { version: "16.0.0" }, descriptor: { name: "syft" } };
}

export function syntheticGrype(size: BenchSize): unknown {
  const r = rng(7);
  const matches = [];
  for (let k = 0; k < size.vulnerabilities; k++) {
    const i = Math.floor(r() * size.packages);
    matches.push({
      vulnerability: { id: `CVE-2099-${10000 + k}`, severity: "High", fix: { versions: [`1.${i % 10}.1-r0`], state: "fixed" } },
      relatedVulnerabilities: [],
      artifact: { name: `pkg${i}`, version: `1.${i % 10}.0-r0`, type: "apk", purl: `pkg:apk/alpine/pkg${i}@1.${i % 10}.0-r0?arch=x86_64&distro=alpine-3.19.0` },
    });
  }
  return { matches, descriptor: { name: "grype" } };
}

/** Events touch packages in the lower half of the id space, so the upper half stays untouched. */
export function syntheticTrace(size: BenchSize): RuntimeTrace {
  const r = rng(42);
  const trace: RuntimeTrace = {
    source: "synthetic",
    from_first_exec: true,
    complete: true,
    duration_ms: 60_000,
    execs: [],
    opens: [],
    mmaps: [],
    connections: [],
    syscall_counts: { openat: size.events },
  };
  const half = Math.max(1, Math.floor(size.packages / 2));
  for (let e = 0; e < size.events; e++) {
    const roll = r();
    const pkg = Math.floor(r() * half);
    const j = Math.floor(r() * size.filesPerPackage);
    // 1 in 5 events touches something no package owns (/proc, the app's own files).
    let path = r() < 0.2 ? `/proc/${e % 500}/status` : fileOf(pkg, j);
    // Merged-usr: a third of the paths arrive through the /lib → /usr/lib symlink.
    if (path.startsWith("/usr/lib/") && e % 3 === 0) path = path.replace("/usr/lib/", "/lib/");
    if (roll < 0.1) trace.execs.push({ pid: 1 + (e % 64), path, argv: [path], ok: true });
    else if (roll < 0.4) trace.mmaps.push({ pid: 1 + (e % 64), path, exec: roll < 0.3 });
    else trace.opens.push({ pid: 1 + (e % 64), path, flags: "O_RDONLY|O_CLOEXEC", ok: roll < 0.95 });
  }
  return trace;
}

export const SYMLINKS = new Map([["/lib", "/usr/lib"]]);
