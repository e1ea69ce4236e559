// Pages one admission commit writes to the ledger object's SQLite (`npm run bench`): the object's
// real schema (src/ledger/sql.ts, or the module given as the first argument) in plain SQLite
// (node:sqlite, WAL), the statements an admission with a job runs (account, hold, hold_placed entry,
// outbox row, and the confirmation of the previous job riding along), after 20,000 admissions of
// history. Counts WAL frames per commit and names the B-tree each page belongs to (dbstat).
// One organization's concurrent admissions share commits on local workerd; 100 organizations'
// cannot, so each page here is paid once per admission by many organizations.
import { DatabaseSync } from "node:sqlite";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const schemaModule = resolve(process.argv[2] ?? "src/ledger/sql.ts");
const { LEDGER_SCHEMA } = await import(pathToFileURL(schemaModule).href);
const HISTORY = Number(process.env.BENCH_PAGES_HISTORY ?? 20_000);
const MEASURED = 2_000;
const PAGE = 4096;

const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "vexxy-pages-"));
const db = new DatabaseSync(join(dir, "ledger.db"));
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA wal_autocheckpoint = 0");
db.exec(`PRAGMA page_size = ${PAGE}`);
for (const stmt of LEDGER_SCHEMA) db.exec(stmt);
db.exec(`INSERT INTO account (id, organization_id, subscription_id, tier, status, period_anchor, period_index, period_start, period_end, grant_remaining, created_at)
         VALUES (1, 'org', 'sub', 'professional', 'active', 0, 0, 0, 1e13, 1e9, 0)`);
const stmts = {
  confirm: db.prepare("DELETE FROM job_outbox WHERE seq IN (SELECT value FROM json_each(?))"),
  hold: db.prepare("INSERT INTO holds (job_id, amount, state, period_index, placed_at, deadline) VALUES (?, 11, 'pending', 0, ?, ?)"),
  account: db.prepare("UPDATE account SET grant_remaining = grant_remaining, purchased_balance = 0, held = held + 11, period_analyses = period_analyses + 1, version = version + 1 WHERE id = 1"),
  entry: db.prepare(
    `INSERT INTO entries (id, type, amount, grant_amount, purchased_amount, held_amount, balance_after, held_after, job_id, op_id,
       stripe_event_id, stripe_object_id, description, created_at, mirrored) VALUES (?, 'hold_placed', 0, 0, 0, 11, 1000000000, 11, ?, NULL, NULL, NULL, ?, ?, 1)
     RETURNING seq`,
  ),
  outbox: db.prepare("INSERT INTO job_outbox (seq, job_id, record) VALUES (?, ?, ?)"),
};
let previous = null;
function admit() {
  const job = randomUUID();
  const now = Date.now();
  db.exec("BEGIN");
  if (previous !== null) stmts.confirm.run(JSON.stringify([previous]));
  stmts.hold.run(job, now, now + 3_600_000);
  stmts.account.run();
  const { seq } = stmts.entry.get(randomUUID(), job, `Held 11 credits for analysis job ${job} (its maximum cost)`, now);
  const record = { id: job, organizationId: "org", imageRef: "nginx:1.25", imageDigest: "sha256:" + "ab".repeat(32), configJson: '{"test_timeout":300}', maxCost: 11, createdAt: new Date(now).toISOString() };
  stmts.outbox.run(seq, job, JSON.stringify(record));
  db.exec("COMMIT");
  previous = seq;
}
for (let i = 0; i < HISTORY; i++) admit();
db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
const wal = join(dir, "ledger.db-wal");
const cpu0 = process.cpuUsage();
for (let i = 0; i < MEASURED; i++) admit();
const cpu = process.cpuUsage(cpu0);
const frames = readFileSync(wal);
const owner = new Map(db.prepare("SELECT name, pageno FROM dbstat").all().map((r) => [r.pageno, r.name]));
const byTree = new Map();
let total = 0;
for (let off = 32; off + 24 + PAGE <= frames.length; off += 24 + PAGE) {
  const name = owner.get(frames.readUInt32BE(off)) ?? "other";
  byTree.set(name, (byTree.get(name) ?? 0) + 1);
  total++;
}
if (total * (24 + PAGE) + 32 !== statSync(wal).size) throw new Error("WAL size is not a whole number of frames");
db.close();
rmSync(dir, { recursive: true, force: true });
console.log(`\nLedger object, pages per admission commit (${schemaModule.replace(process.cwd() + "/", "")}, plain SQLite, ${HISTORY} admissions of history):`);
console.log(`  ${(total / MEASURED).toFixed(2)} pages, ${((cpu.user + cpu.system) / MEASURED).toFixed(1)} µs CPU per admission commit`);
for (const [name, n] of [...byTree].sort((a, b) => b[1] - a[1])) console.log(`    ${name.padEnd(32)} ${(n / MEASURED).toFixed(2)}`);
