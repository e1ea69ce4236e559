// The analysis half of verify-truth.sh: compares what one run of a labelled image showed (inotify
// events, /proc maps and exe, logs) plus what the image's files say (shebangs, PT_INTERP,
// DT_NEEDED) with <name>.truth.json. Independent of the reachability engine: nothing here imports it.
//
// A package is USED when its code demonstrably ran:
//   deb    one of its files is a process's exe, is mapped executable, is the kernel-run interpreter
//          of a program that ran (shebang / PT_INTERP) and was read, is a DT_NEEDED library of a
//          program that ran and was opened, or is interpreted code that was loaded (.py/.pyc);
//   npm    node loaded one of its modules (NODE_DEBUG=module, or a .js file of it opened);
//   maven  the JVM loaded a class from its jar (-Xlog:class+load).
// A package is UNUSED when none of its files was opened, read, mapped or executed at all (for a
// jar: no class was loaded from it; the JVM opening the jar file to search the class path is noted).
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { parseArgs } from "node:util";

const { values: a } = parseArgs({
  options: { truth: { type: "string" }, root: { type: "string" }, work: { type: "string" }, prefix: { type: "string" }, "test-rc": { type: "string" } },
});
const truth = JSON.parse(readFileSync(a.truth, "utf8"));
const ROOT = a.root;
const W = a.work;
const host = (p) => join(ROOT, p);

// ---- paths inside the image: resolve symlinks within ROOT (absolute links restart at ROOT) -------
const realCache = new Map();
function realIn(path, depth = 0) {
  if (depth > 40) return path;
  const key = path;
  if (realCache.has(key)) return realCache.get(key);
  const parts = posix.normalize(path).split("/").filter(Boolean);
  let cur = "/";
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]);
    let st;
    try {
      st = lstatSync(host(next));
    } catch {
      cur = posix.join(next, ...parts.slice(i + 1));
      break;
    }
    if (st.isSymbolicLink()) {
      const target = readlinkSync(host(next));
      const abs = target.startsWith("/") ? target : posix.join(cur, target);
      cur = realIn(posix.join(abs, ...parts.slice(i + 1)), depth + 1);
      break;
    }
    cur = next;
  }
  realCache.set(key, cur);
  return cur;
}
const isFile = (p) => {
  try {
    return statSync(host(p)).isFile();
  } catch {
    return false;
  }
};

// ---- what ran: observations ------------------------------------------------------------------------
const prefix = a.prefix.replace(/\/$/, "");
const events = new Map(); // real path → Set(OPEN|ACCESS)
for (const line of readFileSync(join(W, "events"), "utf8").split("\n")) {
  const m = /^(\S+) (.*)$/.exec(line);
  if (!m || m[1].includes("ISDIR")) continue;
  let p = m[2];
  if (p.startsWith(prefix)) p = p.slice(prefix.length) || "/";
  const real = realIn(p);
  if (!events.has(real)) events.set(real, new Set());
  for (const k of m[1].split(",")) events.get(real).add(k);
}
const mapped = new Map(); // real path → { exec: bool }
const exes = new Map(); // real path → cmdline
for (const f of readdirSync(W)) {
  if (f.startsWith("maps.")) {
    for (const line of readFileSync(join(W, f), "utf8").split("\n")) {
      const m = /^\S+\s+(\S{4})\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
      if (!m) continue;
      const path = m[2].replace(/ \(deleted\)$/, "");
      const real = realIn(path);
      const prev = mapped.get(real) ?? { exec: false };
      mapped.set(real, { exec: prev.exec || m[1].includes("x") });
    }
  }
  if (f.startsWith("exe.")) {
    const exe = readFileSync(join(W, f), "utf8").trim();
    const cmd = existsSync(join(W, `cmdline.${f.slice(4)}`)) ? readFileSync(join(W, `cmdline.${f.slice(4)}`), "utf8").trim() : "";
    if (exe) exes.set(realIn(exe), cmd);
  }
}
const containerLog = existsSync(join(W, "container.log")) ? readFileSync(join(W, "container.log"), "utf8") : "";
// -Xlog:class+load lines: "[…][info][class,load] dev.vexxy.textfmt.Banner source: file:/srv/lib/textfmt-1.4.2.jar"
const classesFrom = new Map(); // real jar path → [class names]
if (existsSync(join(W, "class-load.log"))) {
  for (const line of readFileSync(join(W, "class-load.log"), "utf8").split("\n")) {
    const m = /\]\s(\S+) source: (?:jar:)?file:([^!\s]+)/.exec(line);
    if (!m) continue;
    const jar = realIn(m[2]);
    if (!classesFrom.has(jar)) classesFrom.set(jar, []);
    classesFrom.get(jar).push(m[1]);
  }
}
// NODE_DEBUG=module: `MODULE 1: load "/srv/node_modules/ms/index.js" for module "…"`
const nodeLoaded = new Set();
for (const m of containerLog.matchAll(/MODULE \d+: load "([^"]+)"/g)) nodeLoaded.add(realIn(m[1]));

// ---- what the image says: the programs that ran, their shebangs, PT_INTERP and DT_NEEDED -----------
const image = JSON.parse(readFileSync(join(W, "image.json"), "utf8"))[0];
const argv = [...(image.Config.Entrypoint ?? []), ...(image.Config.Cmd ?? [])];
const entry = argv[0];
function readelf(flag, path) {
  try {
    return execFileSync("readelf", ["-W", flag, host(path)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
}
const interpOf = (p) => /Requesting program interpreter: ([^\]]+)\]/.exec(readelf("-l", p))?.[1] ?? null;
const neededOf = (p) => [...readelf("-d", p).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
const runpathOf = (p) => [...readelf("-d", p).matchAll(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/g)].flatMap((m) => m[1].split(":"));
const LIBDIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
function resolveNeeded(lib, from) {
  const dirs = [...runpathOf(from).map((d) => d.replace("$ORIGIN", posix.dirname(from))), ...LIBDIRS];
  for (const d of dirs) {
    const p = realIn(posix.join(d, lib));
    if (isFile(p)) return p;
  }
  return null;
}

const facts = [];
const ranPrograms = new Map(); // real path → how we know it ran
const kernelLoaded = new Map(); // real path → why (shebang interpreter / PT_INTERP of …)
const neededBy = new Map(); // real lib path → [program]
let shebang = null;
const entryReal = entry ? realIn(entry) : null;
if (entryReal && isFile(entryReal)) {
  const head = readFileSync(host(entryReal)).subarray(0, 256).toString("latin1");
  if (head.startsWith("#!")) {
    shebang = head.slice(2).split("\n")[0].trim();
    const interp = shebang.split(/\s+/)[0];
    const real = realIn(interp);
    facts.push(`image command ${JSON.stringify(argv)}; ${entry} starts with "#!${shebang}" → the kernel runs ${interp} (= ${real})`);
    if ((events.get(real) ?? new Set()).has("ACCESS")) {
      ranPrograms.set(real, `shebang interpreter of ${entry}, read by the kernel (inotify ACCESS)`);
      kernelLoaded.set(real, `shebang interpreter of ${entry}`);
    } else facts.push(`WARNING: ${real} shows no read although it is the shebang interpreter`);
  } else {
    facts.push(`image command ${JSON.stringify(argv)} (an ELF program, no shebang)`);
  }
}
for (const [exe, cmd] of exes) {
  ranPrograms.set(exe, `/proc/PID/exe of a container process (${cmd.slice(0, 80)})`);
  facts.push(`container process: exe ${exe}, cmdline "${cmd.slice(0, 160)}"`);
}
for (const [prog] of [...ranPrograms]) {
  const interp = interpOf(prog);
  if (interp) {
    const real = realIn(interp);
    kernelLoaded.set(real, `PT_INTERP of ${prog}`);
    facts.push(`readelf -l ${prog}: PT_INTERP ${interp} (= ${real})`);
  }
  // DT_NEEDED closure of a program that ran.
  const queue = [prog];
  const seen = new Set(queue);
  while (queue.length) {
    const cur = queue.shift();
    for (const lib of neededOf(cur)) {
      const r = resolveNeeded(lib, cur);
      if (!r) continue;
      if (!neededBy.has(r)) neededBy.set(r, []);
      if (!neededBy.get(r).includes(prog)) neededBy.get(r).push(prog);
      if (!seen.has(r)) {
        seen.add(r);
        queue.push(r);
      }
    }
  }
}
const banner = containerLog.split("\n").find((l) => l.startsWith("[entrypoint]"));
// node: which app modules loaded before and after the service was listening (lazy requires).
{
  const lines = containerLog.split("\n");
  const ready = lines.findIndex((l) => /^listening on /.test(l));
  const loads = lines.map((l, i) => [i, /MODULE \d+: load "(\/srv\/node_modules\/[^"]+)"/.exec(l)?.[1]]).filter(([, p]) => p);
  if (ready >= 0 && loads.length) {
    facts.push(`node loaded at start: ${loads.filter(([i]) => i < ready).map(([, p]) => p).join(", ") || "-"}; after "listening": ${loads.filter(([i]) => i > ready).map(([, p]) => p).join(", ") || "-"}`);
  }
}
if (banner) facts.push(`container log: ${banner}`);
facts.push(`test script (prober) exit code ${a["test-rc"]}`);
facts.push(`${events.size} files opened/read (inotify), ${mapped.size} files mapped, ${exes.size} processes`);

// ---- each package's files ----------------------------------------------------------------------------
function walkFiles(dir, out = []) {
  for (const n of readdirSync(host(dir))) {
    const p = posix.join(dir, n);
    const st = lstatSync(host(p));
    if (st.isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}
function filesOf(pkg) {
  if (pkg.ecosystem === "deb") {
    const info = "/var/lib/dpkg/info";
    const list = readdirSync(host(info)).find((f) => f === `${pkg.name}.list` || f.startsWith(`${pkg.name}:`) && f.endsWith(".list"));
    if (!list) throw new Error(`no dpkg file list for ${pkg.name}`);
    const listed = readFileSync(host(posix.join(info, list)), "utf8").split("\n").filter((l) => l && l !== "/.");
    // Regular files only (directories are shared); symlinks count as their targets.
    return [...new Set(listed.map((p) => realIn(p)).filter(isFile))];
  }
  if (pkg.ecosystem === "npm") return walkFiles(`/srv/node_modules/${pkg.name}`).map((p) => realIn(p));
  if (pkg.ecosystem === "maven") return [realIn(pkg.location)];
  throw new Error(`unknown ecosystem ${pkg.ecosystem}`);
}
const pycAsSource = (p) => {
  const m = /^(.*)\/__pycache__\/([^/.]+)\.cpython-\d+(?:\.opt-\d)?\.pyc$/.exec(p);
  return m ? `${m[1]}/${m[2]}.py` : null;
};
// Interpreted source that was loaded, keyed by the source file (a .pyc stands for its .py).
const loadedSource = new Set();
for (const [p, kinds] of events) {
  if (!kinds.has("OPEN")) continue;
  const src = pycAsSource(p);
  if (src) loadedSource.add(src);
  else if (/\.(py|js|mjs|cjs)$/.test(p)) loadedSource.add(p);
}

const rows = [];
let mismatches = 0;
for (const pkg of truth.packages) {
  const files = filesOf(pkg);
  const fileSet = new Set(files);
  const code = []; // evidence that code of the package ran
  const touch = []; // any other contact with its files
  const notes = [];
  for (const f of files) {
    if (exes.has(f)) code.push(`exe ${f}`);
    if (ranPrograms.has(f) && !exes.has(f)) code.push(`ran ${f} (${ranPrograms.get(f)})`);
    if (kernelLoaded.has(f) && !ranPrograms.has(f)) {
      if (events.get(f)?.has("ACCESS") || mapped.has(f)) code.push(`kernel-loaded ${f} (${kernelLoaded.get(f)})`);
    }
    const m = mapped.get(f);
    if (m?.exec && !exes.has(f)) code.push(`mapped executable ${f}`);
    else if (m && !m.exec) touch.push(`mapped ${f}`);
    if (neededBy.has(f) && events.get(f)?.has("OPEN") && !m?.exec) code.push(`opened ${f}, DT_NEEDED of ${neededBy.get(f).join(", ")}`);
    if (loadedSource.has(f)) code.push(`loaded ${f}`);
    if (nodeLoaded.has(f)) code.push(`node loaded ${f}`);
    const ev = events.get(f);
    if (ev) touch.push(`${[...ev].join("+").toLowerCase()} ${f}`);
  }
  // .pyc files are not in dpkg's lists; they stand for the .py the package owns.
  if (pkg.ecosystem === "deb") {
    for (const src of loadedSource) if (fileSet.has(src) && !code.some((c) => c.endsWith(src))) code.push(`loaded ${src}`);
  }
  if (pkg.ecosystem === "maven") {
    const classes = classesFrom.get(files[0]) ?? [];
    code.length = 0; // for a jar, only a loaded class is code running
    if (classes.length) code.push(`JVM loaded ${classes.length} class(es) from it: ${classes.slice(0, 3).join(", ")}`);
    if (!existsSync(join(W, "class-load.log"))) notes.push("no class-load log");
    if (touch.length && !classes.length) notes.push(`the jar file was ${touch.map((t) => t.split(" ")[0]).join("/")} (class path search), but no class was loaded from it`);
  }
  let ok;
  if (pkg.used) ok = code.length > 0;
  else ok = code.length === 0 && (pkg.ecosystem === "maven" || touch.length === 0);
  if (!ok) mismatches++;
  const uniq = (xs) => [...new Set(xs)];
  rows.push({ pkg, ok, code: uniq(code), touch: uniq(touch), notes, files: files.length });
}

// ---- report --------------------------------------------------------------------------------------------
console.log(`== ${truth.image} (${truth.image_digest})`);
for (const f of facts) console.log(`   ${f}`);
for (const r of rows) {
  const { pkg } = r;
  const label = `${pkg.ecosystem}/${pkg.name}@${pkg.version}`;
  console.log(`${r.ok ? "ok  " : "FAIL"} ${label.padEnd(52)} truth: ${pkg.used ? "USED  " : "unused"} (${r.files} files)`);
  const show = (xs, what) => {
    for (const x of xs.slice(0, 4)) console.log(`       ${what} ${x}`);
    if (xs.length > 4) console.log(`       ${what} … ${xs.length - 4} more`);
  };
  show(r.code, "code:");
  show(r.touch.filter((t) => !r.code.some((c) => c.includes(t.split(" ").pop()))), "seen:");
  for (const n of r.notes) console.log(`       note: ${n}`);
  if (!pkg.used && !r.code.length && !r.touch.length) console.log("       none of its files was opened, read, mapped or executed");
}
const testOk = a["test-rc"] === "0";
if (!testOk) console.log("FAIL the test script did not exit 0");
console.log(`${truth.image}: ${mismatches === 0 && testOk ? "truth.json agrees with the run" : `${mismatches} disagreement(s)`}`);
process.exit(mismatches === 0 && testOk ? 0 : 1);
