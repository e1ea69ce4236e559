// `npm start`: the whole local stack — the Worker under `wrangler dev` (local D1, Durable Objects,
// Queues, R2; migrations applied first) on PORT (default 8001, the spec's base URL) and the
// sandbox-runner on RUNNER_PORT (default 8002). Uses .dev.vars, or .dev.vars.example when absent.
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
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const children = [];
function run(name, cmd, args, env) {
  // Own process group, so stopping the stack also stops grandchildren (npm → tsx → node, wrangler → workerd).
  const child = spawn(cmd, args, { stdio: "inherit", detached: true, env: { ...process.env, ...env } });
  child.on("exit", (code, signal) => {
    console.log(`[start] ${name} exited (${signal ?? code}); stopping the stack`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const signal = (sig) => {
    for (const c of children) {
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
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {}
  }
});

run(
  "worker",
  "wrangler",
  ["dev", "--port", port, "--ip", "127.0.0.1", "--persist-to", persist, "--env-file", varsFile, "--var", `RUNNER_URL:http://127.0.0.1:${runnerPort}`, "--var", `PUBLIC_BASE_URL:http://localhost:${port}`, "--show-interactive-dev-session=false"],
  {},
);
if (withRunner) {
  run("sandbox-runner", "npm", ["-w", "sandbox-runner", "start"], {
    RUNNER_PORT: runnerPort,
    RUNNER_SECRET: vars.RUNNER_SECRET,
    RUNNER_ALLOWED_REGISTRIES: vars.RUNNER_ALLOWED_REGISTRIES ?? "",
    WORKER_URL: `http://127.0.0.1:${port}`,
  });
}
console.log(`[start] VEXxy Premium: http://localhost:${port}  (docs: http://localhost:${port}/docs)`);
