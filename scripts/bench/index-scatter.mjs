// D1's indexes by organization, in plain SQLite (`npm run bench`): what a hand-off round's rows cost
// when they belong to one organization or to 60. billing_events and analysis_jobs are indexed by
// (organization_id, …), so one organization's rows land on one leaf page per index, and 60
// organizations' rows on up to 60 — each dirtied page is written to the WAL at commit. Runs the
// real migrations (node:sqlite, WAL on tmpfs as the Worker bench does) and inserts rounds of 60
// rows the way the hand-off does (one JSON parameter through json_each), after 30,000 rows of history.
import { DatabaseSync } from "node:sqlite";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROWS = 60;
const HISTORY_ROUNDS = 500;
const ROUNDS = Number(process.env.BENCH_SCATTER_ROUNDS ?? 1000);
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "vexxy-scatter-"));
const migrations = readdirSync("migrations").filter((f) => f.endsWith(".sql")).sort().map((f) => readFileSync(join("migrations", f), "utf8"));

function measure(orgsPerRound, label) {
  const db = new DatabaseSync(join(dir, `${label}.db`));
  db.exec("PRAGMA journal_mode = WAL");
  for (const m of migrations) db.exec(m);
  const orgs = Array.from({ length: orgsPerRound }, () => randomUUID());
  const now = new Date().toISOString();
  for (const org of orgs) db.prepare("INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)").run(org, org, `org-${org}`, now, now);
  const seq = new Map();
  const insert = db.prepare(
    `INSERT INTO billing_events (id, organization_id, event_type, description, analysis_job_id, credits_amount, balance_after, held_amount, ledger_seq, created_at)
     SELECT value ->> 0, value ->> 1, 'hold_placed', value ->> 2, value ->> 3, 0, 1000, 11, value ->> 4, value ->> 5 FROM json_each(?) WHERE true`,
  );
  const round = () => {
    const rows = [];
    for (let i = 0; i < ROWS; i++) {
      const org = orgs[i % orgsPerRound];
      const n = (seq.get(org) ?? 0) + 1;
      seq.set(org, n);
      const job = randomUUID();
      rows.push([randomUUID(), org, `Held 11 credits for analysis job ${job} (its maximum cost)`, job, n, new Date().toISOString()]);
    }
    db.exec("BEGIN");
    insert.run(JSON.stringify(rows));
    db.exec("COMMIT");
  };
  for (let i = 0; i < HISTORY_ROUNDS; i++) round();
  const t0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) round();
  const used = process.cpuUsage(t0);
  db.close();
  return (used.user + used.system) / (ROUNDS * ROWS); // µs per row
}

const results = { one: [], sixty: [] };
for (let i = 0; i < 3; i++) {
  results.one.push(measure(1, `one-${i}`));
  results.sixty.push(measure(60, `sixty-${i}`));
}
rmSync(dir, { recursive: true, force: true });
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (xs) => `${mean(xs).toFixed(1)} µs (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
console.log(`\nD1 indexes by organization (plain SQLite, billing_events from the migrations, rounds of ${ROWS} rows, 3 runs each):`);
console.log(`  rows of 1 organization per round:   ${fmt(results.one)} CPU per row`);
console.log(`  rows of 60 organizations per round: ${fmt(results.sixty)} CPU per row (${(mean(results.sixty) / mean(results.one)).toFixed(2)}×)`);
