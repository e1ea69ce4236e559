// What the deploy and provision commands share: the chosen environment's section of wrangler.toml,
// and running wrangler (WRANGLER overrides the command, for tests: a fake wrangler that records calls).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";

export const ENVIRONMENTS = ["staging", "production"];
export const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

/** The secrets a deployment needs (`wrangler secret put NAME --env <env>`); src/env.ts checks their values. */
export const REQUIRED_SECRETS = [
  "JWT_SECRET_KEY",
  "RUNNER_SECRET",
  "OPERATOR_TOKEN",
  "SESSION_SECRET",
  "STRIPE_SECRET_KEY",
  "STRIPE_PUBLISHABLE_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "RUNNER_ACCESS_CLIENT_ID",
  "RUNNER_ACCESS_CLIENT_SECRET",
];

/** `--env <name>` (or `--env=<name>`), `--config <path>`, and boolean flags. */
export function parseArgs(argv) {
  const out = { env: null, config: "wrangler.toml", flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.split("=", 2);
    if (k === "--env" || k === "-e") out.env = inline ?? argv[++i];
    else if (k === "--config" || k === "-c") out.config = inline ?? argv[++i];
    else if (a.startsWith("--")) out.flags.add(a.slice(2));
  }
  if (!ENVIRONMENTS.includes(out.env)) {
    console.error(`usage: … -- --env <${ENVIRONMENTS.join("|")}> [--dry-run]   (got ${out.env ?? "no --env"})`);
    process.exit(2);
  }
  return out;
}

/** The environment's resources, as wrangler.toml names them (bindings are not inherited, so each env lists its own). */
export function environment(configPath, name) {
  const toml = parse(readFileSync(configPath, "utf8"));
  const env = toml.env?.[name];
  if (!env) throw new Error(`${configPath} has no [env.${name}]`);
  const queues = new Set();
  for (const p of env.queues?.producers ?? []) queues.add(p.queue);
  for (const c of env.queues?.consumers ?? []) {
    queues.add(c.queue);
    if (c.dead_letter_queue) queues.add(c.dead_letter_queue);
  }
  return {
    name,
    worker: `${toml.name}-${name}`,
    vars: env.vars ?? {},
    d1: (env.d1_databases ?? []).map((d) => ({ binding: d.binding, name: d.database_name, id: d.database_id })),
    queues: [...queues],
    buckets: (env.r2_buckets ?? []).map((b) => b.bucket_name),
  };
}

/** Runs wrangler with the given arguments; returns { status, stdout, stderr } (never throws). */
export function wrangler(args, { config, capture = true } = {}) {
  const [cmd, ...pre] = (process.env.WRANGLER ?? "npx wrangler").split(" ");
  const full = [...pre, ...args, ...(config ? ["--config", config] : [])];
  const r = spawnSync(cmd, full, { encoding: "utf8", stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit", env: process.env });
  return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
