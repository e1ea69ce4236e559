// `npm start`: the whole local stack — the Worker under `wrangler dev` (local D1, Durable Objects,
// Queues, R2; migrations applied first) on PORT (default 8001, the spec's base URL) and the
// sandbox-runner on RUNNER_PORT (default 8002). Uses .dev.vars, or .dev.vars.example when absent.
// It supervises: a runner that dies is started again (after 1 s, doubling to 30 s while it keeps
// dying) and the Worker stays up; the Worker's own exit, or Ctrl-C, stops everything.
// Once both answer (or after two minutes) it prints the readiness table of `npm run doctor`: what
// an analysis needs and, for each missing piece, the command that fixes it. The stack starts
// wherever it can: failed migrations or a host without podman are rows in that table, not a stop.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const port = process.env.PORT ?? "8001";
const runnerPort = process.env.RUNNER_PORT ?? "8002";
const persist = process.env.VEXXY_STATE_DIR ?? ".wrangler/state";
const varsFile = existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example";
const vars = Object.fromEntries(
  readFileSync(varsFile, "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
const withRunner = process.env.VEXXY_NO_RUNNER !== "1";
console.log(`[start] configuration from ${varsFile}`);

const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
  stdio: "inherit",
  env: { ...process.env, CI: "1" },
});
if (migrate.status !== 0) console.log("[start] applying the D1 migrations failed (above); starting the rest — the readiness table below says what to run");

/** The live child of each supervised process, by name. */
const children = new Map();
function spawnGroup(cmd, args, env) {
  // Own process group, so stopping the stack also stops grandchildren (npm → tsx → node, wrangler → workerd).
  return spawn(cmd, args, { stdio: "inherit", detached: true, env: { ...process.env, ...env } });
}

/** A process whose exit stops the stack (the Worker). */
function run(name, cmd, args, env) {
  const child = spawnGroup(cmd, args, env);
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.log(`[start] ${name} exited (${signal ?? code}); stopping the stack`);
    shutdown(code ?? 1);
  });
  children.set(name, child);
}

/** A process that is started again when it dies, with backoff (the sandbox-runner). */
function supervise(name, cmd, args, env) {
  let failures = 0;
  const start = () => {
    const startedAt = Date.now();
    const child = spawnGroup(cmd, args, env);
    children.set(name, child);
    child.on("exit", (code, signal) => {
      if (stopping) return;
      // What it started (sandboxes and their tracers) is left as a real crash leaves it: the new
      // process's orphan sweep removes the sandboxes first, then their tracers.
      failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
      const delay = Math.min(30_000, 1000 * 2 ** (failures - 1));
      console.log(`[start] ${name} exited (${signal ?? code}); starting it again in ${delay / 1000} s — the Worker stays up`);
      setTimeout(() => stopping || start(), delay).unref();
    });
  };
  start();
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const signal = (sig) => {
    for (const c of children.values()) {
      try {
        process.kill(-c.pid, sig);
      } catch {}
    }
  };
  signal("SIGTERM");
  // The runner gets its graceful-shutdown window; whatever is left after it is killed.
  setTimeout(() => {
    signal("SIGKILL");
    process.exit(code);
  }, 5000).unref();
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));
process.on("exit", () => {
  for (const c of children.values()) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {}
  }
});

run(
  "worker",
  "wrangler",
  ["dev", "--port", port, "--ip", "127.0.0.1", "--persist-to", persist, "--env-file", varsFile, "--var", `RUNNER_URL:http://127.0.0.1:${runnerPort}`, "--var", `PUBLIC_BASE_URL:http://localhost:${port}`, ...(process.env.JOB_LEASE_SECONDS ? ["--var", `JOB_LEASE_SECONDS:${process.env.JOB_LEASE_SECONDS}`] : []), "--show-interactive-dev-session=false"],
  {},
);
if (withRunner) {
  supervise("sandbox-runner", "npm", ["-w", "sandbox-runner", "start"], {
    RUNNER_PORT: runnerPort,
    RUNNER_SECRET: vars.RUNNER_SECRET,
    RUNNER_ALLOWED_REGISTRIES: vars.RUNNER_ALLOWED_REGISTRIES ?? "",
    WORKER_URL: `http://127.0.0.1:${port}`,
  });
}
console.log(`[start] VEXxy Premium: http://localhost:${port}  (docs: http://localhost:${port}/docs)`);
printReadiness().catch((err) => console.log(`[start] readiness check failed: ${err instanceof Error ? err.message : err}`));

/** Waits until the Worker and the runner answer (two minutes at most), then prints `npm run doctor`'s table. */
async function printReadiness() {
  const answers = (url) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
  for (let i = 0; i < 120 && !stopping; i++) {
    const [worker, runner] = await Promise.all([answers(`http://127.0.0.1:${port}/health`), withRunner ? answers(`http://127.0.0.1:${runnerPort}/healthz`) : true]);
    if (worker && runner) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (stopping) return;
  const doctor = spawn("tsx", ["sandbox-runner/src/cli/doctor.ts"], {
    stdio: "inherit",
    // The doctor must not open the D1 database the Worker is serving from: it is told what was applied.
    env: { ...process.env, PORT: port, RUNNER_PORT: runnerPort, VEXXY_STATE_DIR: persist, VEXXY_MIGRATIONS: migrate.status === 0 ? "applied" : "failed" },
  });
  await new Promise((r) => doctor.on("exit", r));
}
