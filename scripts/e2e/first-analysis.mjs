// A newcomer's first analysis (issue #18), through the public API on its own stack (the Worker
// from `scripts/start.mjs` without a runner, then two real runners in turn on one port):
//  1. a runner whose PATH has no podman: /healthz says analyses cannot run and why; a job fails as
//     sandbox_unavailable naming podman and the apt-get line, and costs nothing;
//  2. a runner whose prober image is missing: it builds it in the background (debootstrap from the
//     Debian mirror), and a test-script job submitted at once waits queued, then completes.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checks } from "./lib.mjs";
import { devVars, freePort, newOrganization, startWorkerOnly, submitShortJobs, waitHealthy } from "../lib/local-stack.mjs";

const { check, done } = checks();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const [PORT, RUNNER_PORT] = [await freePort(), await freePort()];
const base = `http://127.0.0.1:${PORT}`;
const vars = devVars();
const cache = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
spawnSync("bash", ["sandbox-runner/test-images/build.sh"], { stdio: ["ignore", "ignore", "inherit"] });
const digest = readFileSync(`${cache}/target.digest`, "utf8").trim();
const prober = `localhost/vexxy-e2e-first/prober-${process.pid}:latest`;

const state = mkdtempSync(join(tmpdir(), "vexxy-e2e-first-"));
const stack = startWorkerOnly({ port: PORT, runnerPort: RUNNER_PORT, stateDir: state });
let runner;
const stop = (p) => {
  try {
    process.kill(-p.pid, "SIGTERM");
  } catch {}
};
process.on("exit", () => {
  for (const p of [runner, stack]) if (p) stop(p);
  spawnSync("podman", ["rmi", "-f", prober], { stdio: "ignore" });
  rmSync(state, { recursive: true, force: true });
});

/** The real runner (src/main.ts under tsx) with `env` on top of the runner settings; resolves once /healthz answers. */
async function startRunner(env) {
  runner = spawn("node_modules/.bin/tsx", ["sandbox-runner/src/main.ts"], {
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
    env: { ...process.env, RUNNER_PORT: String(RUNNER_PORT), RUNNER_SECRET: vars.RUNNER_SECRET, RUNNER_ALLOWED_REGISTRIES: vars.RUNNER_ALLOWED_REGISTRIES ?? "", RUNNER_ID: `e2e-first-${process.pid}`, WORKER_URL: base, ...env },
  });
  for (let i = 0; i < 60; i++) {
    const health = await fetch(`http://127.0.0.1:${RUNNER_PORT}/healthz`).then((r) => r.json(), () => null);
    if (health) return health;
    await sleep(500);
  }
  throw new Error("the runner did not answer /healthz");
}

async function stopRunner() {
  const exited = new Promise((r) => runner.on("exit", r));
  stop(runner);
  await exited;
}

check("the Worker starts", await waitHealthy(base, 120_000));
const token = await newOrganization(base, vars, "starter", { reason: "e2e first analysis" });
const api = async (path) => (await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } })).json();
const waitEnd = async (id, seen) => {
  for (let i = 0; i < 600; i++) {
    const st = await api(`/api/v1/analysis/${id}/status`);
    seen?.add(`${st.status}/${st.phase}`);
    if (["complete", "failed", "cancelled"].includes(st.status)) return st;
    await sleep(500);
  }
  return null;
};

// 1. No podman on the runner's PATH (node only, for the runner itself).
const bare = mkdtempSync(join(tmpdir(), "vexxy-e2e-path-"));
symlinkSync(process.execPath, join(bare, "node"));
const health = await startRunner({ PATH: bare });
check("/healthz: analyses cannot run", health.analyses?.can_run === false, JSON.stringify(health.analyses));
check("/healthz: names podman and the apt-get line", health.analyses?.reasons?.some((r) => r.includes("podman") && r.includes("apt-get install -y podman runc slirp4netns")), JSON.stringify(health.analyses?.reasons));
const before = (await api("/api/v1/billing/credits")).credit_balance;
const [noPodman] = await submitShortJobs(base, token, digest, 1);
const failed = await waitEnd(noPodman);
check("the job fails as sandbox_unavailable", failed?.status === "failed" && failed.error_code === "sandbox_unavailable", JSON.stringify(failed));
check("its message names podman and the command that installs it", /podman.*apt-get install -y podman runc slirp4netns/.test(failed?.error_message ?? ""), failed?.error_message);
check("it costs nothing", (await api("/api/v1/billing/credits")).credit_balance === before);
await stopRunner();
rmSync(bare, { recursive: true, force: true });

// 2. The prober image missing: built in the background while a test-script job waits for it.
spawnSync("podman", ["rmi", "-f", prober], { stdio: "ignore" });
await startRunner({ RUNNER_PROBER_IMAGE: prober });
const [waits] = await submitShortJobs(base, token, digest, 1);
const seen = new Set();
const st = await waitEnd(waits, seen);
check("a test-script job submitted before the prober image exists waits queued for it", seen.has("queued/waiting_for_prober_image"), [...seen].join(" "));
check("then runs to complete", st?.status === "complete", JSON.stringify(st));
const after = await fetch(`http://127.0.0.1:${RUNNER_PORT}/healthz`).then((r) => r.json());
check("/healthz: test scripts ready", after.analyses?.test_scripts === "ready", JSON.stringify(after.analyses));
await stopRunner();
done("first analysis");
