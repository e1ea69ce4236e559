// `npm run deploy -- --env <staging|production>`: the order that is safe for a schema change.
//   1. refuse when wrangler.toml still has the placeholder D1 id (run `npm run provision` first) or a
//      required secret is not set on the Worker (prints the `wrangler secret put` lines);
//   2. apply D1 migrations remotely — migrations only add (new tables, columns with defaults, indexes),
//      so the running Worker keeps working on the new schema; a destructive change waits for the
//      release after the one that stopped using what it removes (docs/deploy.md);
//   3. deploy the Worker;
//   4. check it: /health answers, and /api/v1/billing/tiers is not 503 (the configuration check:
//      development values or a missing secret make every API call 503; `wrangler tail` says which).
// `--dry-run` does steps 1's file check and `wrangler deploy --dry-run` only: no account needed.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environment, parseArgs, PLACEHOLDER_ID, REQUIRED_SECRETS, wrangler } from "./wrangler-env.mjs";

const args = parseArgs(process.argv.slice(2));
const dryRun = args.flags.has("dry-run");
const env = environment(args.config, args.env);
const fail = (msg) => {
  console.error(`[deploy] ${msg}`);
  process.exit(1);
};
const step = (n, msg) => console.log(`[deploy] ${n}. ${msg}`);

console.log(`[deploy] ${env.worker} (${args.env})${dryRun ? " — dry run" : ""}`);
const placeholders = env.d1.filter((d) => !d.id || d.id === PLACEHOLDER_ID);
if (placeholders.length && !dryRun) {
  fail(`wrangler.toml [env.${args.env}] still has the placeholder D1 id for ${placeholders.map((d) => d.name).join(", ")}: run \`npm run provision -- --env ${args.env}\` and put the id it prints there`);
}

if (dryRun) {
  step(1, "wrangler deploy --dry-run (bundles and checks the configuration; nothing is uploaded)");
  const out = mkdtempSync(join(tmpdir(), `vexxy-deploy-${args.env}-`));
  const r = wrangler(["deploy", "--dry-run", "--env", args.env, "--outdir", out], { config: args.config });
  if (r.status !== 0) fail(`wrangler deploy --dry-run failed:\n${r.stderr || r.stdout}`);
  const warnings = (r.stdout + r.stderr).split("\n").filter((l) => /WARNING|▲/.test(l));
  if (warnings.length) fail(`wrangler warned about [env.${args.env}]:\n${warnings.join("\n")}`);
  console.log(`[deploy] dry run passed: would migrate ${env.d1.map((d) => d.name).join(", ")} and deploy ${env.worker}`);
  process.exit(0);
}

step(1, "required secrets are set on the Worker");
const listed = wrangler(["secret", "list", "--env", args.env, "--format", "json"], { config: args.config });
let names = [];
try {
  names = JSON.parse(listed.stdout).map((s) => s.name);
} catch {
  fail(`could not list the Worker's secrets (wrangler secret list --env ${args.env}):\n${listed.stderr || listed.stdout}`);
}
const missing = REQUIRED_SECRETS.filter((s) => !names.includes(s));
if (missing.length) fail(`secrets not set:\n${missing.map((s) => `  npx wrangler secret put ${s} --env ${args.env}`).join("\n")}`);

for (const db of env.d1) {
  step(2, `D1 migrations on ${db.name} (remote)`);
  const r = wrangler(["d1", "migrations", "apply", db.binding, "--remote", "--env", args.env], { config: args.config, capture: false });
  if (r.status !== 0) fail(`migrations failed on ${db.name}; the Worker was not deployed (the running version is unchanged)`);
}

step(3, `wrangler deploy --env ${args.env}`);
if (wrangler(["deploy", "--env", args.env], { config: args.config, capture: false }).status !== 0) fail("wrangler deploy failed");

step(4, `checking ${env.vars.PUBLIC_BASE_URL}`);
const base = String(env.vars.PUBLIC_BASE_URL ?? "").replace(/\/+$/, "");
const get = async (path) => {
  for (let i = 0; i < 10; i++) {
    try {
      return await fetch(base + path, { signal: AbortSignal.timeout(10_000) });
    } catch {
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  return null;
};
const health = await get("/health");
if (health?.status !== 200) fail(`${base}/health did not answer 200 (${health?.status ?? "unreachable"}): check the route or custom domain`);
const api = await get("/api/v1/billing/tiers");
if (api?.status === 503) {
  const body = await api.json().catch(() => ({}));
  fail(`deployed, but the configuration check refuses it (503): ${(body.details?.settings ?? []).join(", ")}. \`npx wrangler tail --env ${args.env}\` shows each problem.`);
}
if (api?.status !== 200) fail(`${base}/api/v1/billing/tiers answered ${api?.status ?? "nothing"}`);
console.log(`[deploy] ${env.worker} is live at ${base}`);
