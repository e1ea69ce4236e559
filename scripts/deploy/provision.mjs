// `npm run provision -- --env <staging|production>`: creates what the environment's section of
// wrangler.toml names and the account does not have yet — the D1 database, the queues (with the
// dead-letter queue) and the R2 bucket — with wrangler's own commands. Idempotent: what exists is left
// alone. Prints the D1 database id to put in wrangler.toml. `--dry-run` only says what it would create.
import { environment, parseArgs, PLACEHOLDER_ID, UUID, wrangler } from "./wrangler-env.mjs";

const args = parseArgs(process.argv.slice(2));
const dryRun = args.flags.has("dry-run");
const env = environment(args.config, args.env);
const created = [];
const failed = [];

function ensure(kind, name, info, create, idOf = () => null) {
  const found = wrangler(info);
  if (found.status === 0) {
    console.log(`  exists   ${kind} ${name}`);
    return idOf(found.stdout);
  }
  if (dryRun) {
    console.log(`  create   ${kind} ${name}   (dry run: wrangler ${create.join(" ")})`);
    return null;
  }
  const made = wrangler(create);
  if (made.status !== 0) {
    console.error(`  FAILED   ${kind} ${name}: ${(made.stderr || made.stdout).trim().split("\n").slice(-3).join(" / ")}`);
    failed.push(`${kind} ${name}`);
    return null;
  }
  console.log(`  created  ${kind} ${name}`);
  created.push(`${kind} ${name}`);
  return idOf(made.stdout);
}

console.log(`[provision] ${env.worker} (${args.env})${dryRun ? " — dry run" : ""}`);
const ids = {};
for (const db of env.d1) {
  const idOf = (out) => {
    try {
      return JSON.parse(out).uuid ?? null;
    } catch {
      return UUID.exec(out)?.[0] ?? null;
    }
  };
  ids[db.binding] = { name: db.name, configured: db.id, id: ensure("D1 database", db.name, ["d1", "info", db.name, "--json"], ["d1", "create", db.name], idOf) };
}
for (const q of env.queues) ensure("queue", q, ["queues", "info", q], ["queues", "create", q]);
for (const b of env.buckets) ensure("R2 bucket", b, ["r2", "bucket", "info", b], ["r2", "bucket", "create", b]);

console.log("");
for (const [binding, { name, configured, id }] of Object.entries(ids)) {
  if (!id) continue;
  if (configured === id) console.log(`[provision] wrangler.toml already has ${binding} = ${name} (${id})`);
  else {
    console.log(`[provision] put this D1 id in wrangler.toml, [[env.${args.env}.d1_databases]] binding = "${binding}":`);
    console.log(`    database_id = "${id}"${configured === PLACEHOLDER_ID ? "" : `   (it says ${configured} now)`}`);
  }
}
console.log(`[provision] ${created.length} created, ${failed.length} failed${dryRun ? " (dry run)" : ""}`);
process.exit(failed.length ? 1 : 0);
