#!/usr/bin/env node
// A stand-in for wrangler's account commands in the deploy/provision tests: keeps the "account" in
// FAKE_WRANGLER_STATE (JSON), appends every call to FAKE_WRANGLER_LOG, and answers the way wrangler
// does (exit 1 for an unknown resource; `d1 create` prints the new id). `deploy --dry-run` runs the
// real wrangler, which needs no account.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2).filter((a, i, all) => a !== "--config" && all[i - 1] !== "--config");
const statePath = process.env.FAKE_WRANGLER_STATE;
const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { d1: {}, queues: [], buckets: [], secrets: [], deployed: 0, failMigrations: false };
appendFileSync(process.env.FAKE_WRANGLER_LOG, `${args.join(" ")}\n`);
const save = () => writeFileSync(statePath, JSON.stringify(state));
const [a, b, c, d] = args;
const gone = (what) => {
  console.error(`✘ [ERROR] ${what} not found`);
  process.exit(1);
};

if (a === "d1" && b === "info") state.d1[c] ? console.log(JSON.stringify({ uuid: state.d1[c], name: c })) : gone(`database ${c}`);
else if (a === "d1" && b === "create") {
  if (state.d1[c]) gone(`(already exists) ${c}`);
  state.d1[c] = randomUUID();
  save();
  console.log(`✅ Successfully created DB '${c}'\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "${c}"\ndatabase_id = "${state.d1[c]}"`);
} else if (a === "queues" && b === "info") state.queues.includes(c) ? console.log(`Queue Name: ${c}`) : gone(`queue ${c}`);
else if (a === "queues" && b === "create") {
  state.queues.push(c);
  save();
  console.log(`Created queue '${c}'.`);
} else if (a === "r2" && b === "bucket" && c === "info") state.buckets.includes(d) ? console.log(`name: ${d}`) : gone(`bucket ${d}`);
else if (a === "r2" && b === "bucket" && c === "create") {
  state.buckets.push(d);
  save();
  console.log(`Created bucket '${d}'.`);
} else if (a === "secret" && b === "list") console.log(JSON.stringify(state.secrets.map((name) => ({ name, type: "secret_text" }))));
else if (a === "d1" && b === "migrations" && c === "apply") process.exit(state.failMigrations ? 1 : 0);
else if (a === "deploy" && args.includes("--dry-run")) {
  const real = spawnSync("npx", ["wrangler", ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(real.status ?? 1);
} else if (a === "deploy") {
  state.deployed++;
  save();
} else {
  console.error(`fake wrangler: no answer for: ${args.join(" ")}`);
  process.exit(3);
}
