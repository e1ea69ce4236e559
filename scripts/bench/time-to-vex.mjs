// Time to VEX (issue #22): from submit to a finished VEX through the public API, on today's test
// image and the labelled images, each against an untraced podman run of the same image and test
// script in the same round (create → start → healthy → test script → remove, the runner's own
// container arguments without the tracer). Phases come from polling the job's status every 50 ms.
//
//   node --import tsx scripts/bench/time-to-vex.mjs      (root, podman, strace; images built by
//   sandbox-runner/test-images/build.sh and build-labelled.sh)
//   BENCH_TTV_ROUNDS=3  BENCH_TTV_IMAGES="target shell-entry musl-busybox node-deps java-jars"
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { devVars, freePort, newOrganization, startRealRunner, startWorkerOnly, waitHealthy } from "../lib/local-stack.mjs";
import { podman, podmanOk } from "../../sandbox-runner/src/drivers/podman/exec.ts";
import { proberRunArgs, targetCreateArgs, containerName } from "../../sandbox-runner/src/drivers/podman/container-args.ts";
import { probePorts } from "../../sandbox-runner/src/drivers/podman/netns-probe.ts";
import { DEFAULT_PROBER_IMAGE } from "../../sandbox-runner/src/drivers/podman/driver.ts";

const ROUNDS = Number(process.env.BENCH_TTV_ROUNDS ?? 3);
const CACHE = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const IMAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../sandbox-runner/test-images");
const NAMES = (process.env.BENCH_TTV_IMAGES ?? "target shell-entry musl-busybox node-deps java-jars").split(/[\s,]+/).filter(Boolean);
const PHASES = ["queued", "pulling_image", "starting_sandbox", "waiting_for_health", "running_test_script", "collecting_evidence", "computing_reachability", "writing_vex"];
const LIMITS = { memoryBytes: 512 * 1024 * 1024, cpus: 1, pids: 512 };

const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cases() {
  const out = [];
  for (const name of NAMES) {
    if (name === "target") {
      if (!existsSync(`${CACHE}/target.digest`)) continue;
      out.push({
        name: "target (today's test image)",
        image: "localhost/vexxy-test/target:latest",
        digest: readFileSync(`${CACHE}/target.digest`, "utf8").trim(),
        script: "curl -fsS http://localhost:8080/health && curl -fsS http://localhost:8080/x",
        port: 8080,
        vulnerabilities: readJson(`${CACHE}/target.vulns.grype.json`),
        sbom: null,
      });
      continue;
    }
    const truthFile = `${CACHE}/${name}.truth.json`;
    if (!existsSync(truthFile)) {
      console.log(`[time-to-vex] ${name}: not built (sandbox-runner/test-images/build-labelled.sh); left out`);
      continue;
    }
    const truth = readJson(truthFile);
    out.push({
      name,
      image: `localhost/vexxy-test/${name}:latest`,
      digest: readFileSync(`${CACHE}/${name}.digest`, "utf8").trim(),
      script: readFileSync(join(IMAGES_DIR, name, truth.run.test_script), "utf8"),
      port: truth.run.port,
      vulnerabilities: readJson(`${CACHE}/${name}.vulns.grype.json`),
      sbom: existsSync(`${CACHE}/${name}.sbom.syft.json`) ? readJson(`${CACHE}/${name}.sbom.syft.json`) : null,
    });
  }
  return out;
}


/** The same container arguments the runner uses, no tracer: create → start → healthy → script → rm. */
async function untraced(c) {
  const jobId = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), "vexxy-ttv-"));
  const envFile = join(dir, "env");
  (await import("node:fs")).writeFileSync(envFile, "");
  const t0 = performance.now();
  const imageId = (await podmanOk(["image", "inspect", "--format", "{{.Id}}", c.image])).trim();
  const spec = { jobId, ports: [c.port], environment: {}, timeoutSeconds: 600 };
  try {
    await podmanOk(targetCreateArgs(spec, LIMITS, { imageId, readOnly: true, envFile, inlineEnv: {} }));
    await podmanOk(["start", containerName(jobId, "target")]);
    const pid = Number((await podmanOk(["inspect", "--format", "{{.State.Pid}}", containerName(jobId, "target")])).trim());
    for (let i = 0; i < 240; i++) {
      if ((await probePorts(pid, [c.port])).every((p) => p.answered)) break;
      await sleep(250);
    }
    const healthy = performance.now();
    const r = await podman(proberRunArgs({ jobId, targetName: containerName(jobId, "target"), proberImage: DEFAULT_PROBER_IMAGE, name: containerName(jobId, "prober") }), { stdin: c.script, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`untraced test script failed (${r.code}): ${r.stderr.slice(-300)}`);
    const scripted = performance.now();
    await podmanOk(["rm", "-f", "-t", "0", containerName(jobId, "target")]);
    const end = performance.now();
    return { total: end - t0, start: healthy - t0, script: scripted - healthy, remove: end - scripted };
  } finally {
    await podman(["rm", "-f", "-t", "0", containerName(jobId, "target"), containerName(jobId, "prober")]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Submit through the public API and follow the job's phases until it completes. */
async function traced(server, token, c) {
  const body = { image_ref: c.image, image_digest: c.digest, config: { test_script: c.script, ports: [c.port], test_timeout: 120 }, vulnerabilities: c.vulnerabilities, ...(c.sbom ? { sbom: c.sbom } : {}) };
  const t0 = performance.now();
  const res = await fetch(`${server}/api/v1/analysis/submit`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
  const { job_id } = await res.json();
  const seen = new Map([["queued", t0]]);
  let last = "queued";
  for (;;) {
    const s = await (await fetch(`${server}/api/v1/analysis/${job_id}/status`, { headers: { Authorization: `Bearer ${token}` } })).json();
    const now = performance.now();
    const phase = s.status === "complete" || s.status === "failed" ? s.status : (s.phase ?? last);
    if (phase !== last && !seen.has(phase)) seen.set(phase, now);
    last = phase;
    if (s.status === "complete") break;
    if (s.status === "failed" || s.status === "cancelled") throw new Error(`job ${job_id} ${s.status}: ${s.error_message}`);
    if (now - t0 > 300_000) throw new Error(`job ${job_id} did not finish in 5 min`);
    await sleep(50);
  }
  const end = seen.get("complete");
  const order = [...seen.entries()].sort((a, b) => a[1] - b[1]);
  const phases = {};
  for (let i = 0; i < order.length - 1; i++) phases[order[i][0]] = order[i + 1][1] - order[i][1];
  return { total: end - t0, phases };
}

const vars = devVars();
const [port, runnerPort] = [await freePort(), await freePort()];
const server = `http://127.0.0.1:${port}`;
const stateDir = mkdtempSync(join(tmpdir(), "vexxy-ttv-state-"));
// A fresh image-index cache: each image's first (unmeasured) run reads its filesystem, as a new image would.
process.env.RUNNER_INDEX_CACHE_DIR = join(stateDir, "image-index");
const worker = startWorkerOnly({ port, runnerPort, stateDir });
const runner = startRealRunner(vars, { port: runnerPort, workerUrl: server, slots: 1, id: `bench-ttv-${runnerPort}` });
const stop = () => {
  for (const p of [worker, runner]) {
    try {
      process.kill(-p.pid, "SIGTERM");
    } catch {}
  }
  rmSync(stateDir, { recursive: true, force: true });
};
try {
  if (!(await waitHealthy(server, 120_000))) throw new Error("the Worker did not come up");
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${runnerPort}/healthz`)).ok) break;
    } catch {}
    await sleep(500);
  }
  const token = await newOrganization(server, vars, "professional", { reason: "bench time to VEX" });
  const all = cases();
  // One run of each first, outside the medians: image layers, page cache, and the runner's image
  // index read for the first time (reported on its own below).
  const first = new Map();
  for (const c of all) {
    await untraced(c);
    first.set(c.name, await traced(server, token, c));
  }
  console.log(`\n## Time to VEX (${ROUNDS} rounds, medians; ratio = traced submit→complete ÷ untraced run, same round)\n`);
  console.log(`| image | untraced run | submit → complete | ratio | ${PHASES.join(" | ")} |`);
  console.log(`|---|---|---|---|${PHASES.map(() => "---").join("|")}|`);
  for (const c of all) {
    const u = [];
    const t = [];
    const ratios = [];
    for (let r = 0; r < ROUNDS; r++) {
      const base = await untraced(c);
      const run = await traced(server, token, c);
      u.push(base.total);
      t.push(run);
      ratios.push(run.total / base.total);
    }
    const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
    const ph = PHASES.map((p) => {
      const xs = t.map((x) => x.phases[p]).filter((x) => x !== undefined);
      return xs.length ? s(median(xs)) : "—";
    });
    console.log(`| ${c.name} | ${s(median(u))} | ${s(median(t.map((x) => x.total)))} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${ph.join(" | ")} |`);
  }
  console.log("\nFirst run of each image (its filesystem index read for the first time, overlapping the run):");
  for (const [name, r] of first) {
    const reach = r.phases.computing_reachability;
    console.log(`- ${name}: submit → complete ${(r.total / 1000).toFixed(2)} s, computing_reachability ${reach === undefined ? "under one 50 ms poll" : `${(reach / 1000).toFixed(2)} s`}`);
  }
  console.log("\nTargets (issue #22): test image ≤ 3× untraced; collecting_evidence < 0.5 s without a graceful exit; computing_reachability < 0.5 s for ~100 packages.");
} finally {
  stop();
}
process.exit(0);
