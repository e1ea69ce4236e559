/**
 * Whether this machine's local stack can run analyses, one row per piece: the Worker, its D1
 * migrations, the runner, and what the runner needs from its host (sandbox driver, tracer, prober
 * image). A runner that answers reports its own host (/healthz); a runner that is down is stood in
 * for by the same checks run here. Every row that is not ok names the one command that fixes it.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { podman } from "../drivers/podman/exec.js";
import { findOnPath, hostChecks, type HostEnv } from "../drivers/podman/host-check.js";
import type { HostCheck } from "../drivers/types.js";

export interface DoctorTarget {
  workerUrl: string;
  runnerUrl: string;
  /** The repository root (wrangler and migrations/ live there). */
  root: string;
  /** The local state the stack persists D1 to (VEXXY_STATE_DIR, relative to the root). */
  stateDir: string;
  proberImage: string;
  host: HostEnv;
  /** What `npm start` found when it applied the migrations itself (it passes VEXXY_MIGRATIONS to the doctor it runs). */
  migrationsAtStart?: "applied" | "failed";
}

export interface Diagnosis {
  rows: HostCheck[];
  /** Whether an analysis submitted now would run (a test script may wait for the prober image). */
  canRun: boolean;
}

export async function diagnose(t: DoctorTarget): Promise<Diagnosis> {
  const [worker, runner] = await Promise.all([workerRow(t), runnerRow(t)]);
  const migrations = await migrationsRow(t, worker.status === "ok");
  const hostRows = runner.checks ?? (await localHostRows(t));
  const rows = [worker, migrations, runner.row, ...hostRows];
  return { rows, canRun: rows.every((r) => r.status !== "missing") };
}

async function get(url: string): Promise<{ ok: true; body: unknown } | { ok: false; reason: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the status alone says it answered
    }
    return res.ok ? { ok: true, body } : { ok: false, reason: `HTTP ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, reason: cause === "ECONNREFUSED" ? "connection refused" : cause ?? (err instanceof Error ? err.message : String(err)) };
  }
}

async function workerRow(t: DoctorTarget): Promise<HostCheck> {
  const r = await get(`${t.workerUrl}/health`);
  return r.ok
    ? { name: "Worker", status: "ok", detail: `${t.workerUrl} answers` }
    : { name: "Worker", status: "missing", detail: `not reachable at ${t.workerUrl} (${r.reason})`, fix: "npm start" };
}

/**
 * Listing the migrations opens the local D1 database. While a Worker serves from it, that second
 * open can make the Worker's own writes fail (SQLITE_BUSY: a request answered 500, seen in CI), so a
 * running Worker's database is not touched: `npm start` says what it applied, and otherwise the row
 * says it was not checked.
 */
async function migrationsRow(t: DoctorTarget, workerRunning: boolean): Promise<HostCheck> {
  const name = "D1 migrations";
  const fix = `npx wrangler d1 migrations apply DB --local --persist-to ${t.stateDir}`;
  if (t.migrationsAtStart === "applied") return { name, status: "ok", detail: `applied by npm start (${t.stateDir})` };
  if (t.migrationsAtStart === "failed") return { name, status: "missing", detail: "npm start could not apply them (its output above says why)", fix };
  if (workerRunning) {
    return { name, status: "ok", detail: `not checked while the Worker serves from ${t.stateDir} (npm start applies them before it starts the Worker)` };
  }
  let all: string[];
  try {
    all = readdirSync(join(t.root, "migrations")).filter((f) => f.endsWith(".sql"));
  } catch {
    return { name, status: "missing", detail: `no migrations/ folder under ${t.root}`, fix: "run npm run doctor from the repository" };
  }
  const wrangler = join(t.root, "node_modules/.bin/wrangler");
  const r = await runText(wrangler, ["d1", "migrations", "list", "DB", "--local", "--persist-to", t.stateDir], t.root);
  if (r.error) return { name, status: "missing", detail: `could not run wrangler (${r.error})`, fix: "npm ci" };
  if (r.code !== 0) return { name, status: "missing", detail: `wrangler d1 migrations list failed: ${lastLine(r.text)}`, fix };
  if (/No migrations to apply/.test(r.text)) return { name, status: "ok", detail: `${all.length} applied (${t.stateDir})` };
  const pending = all.filter((f) => r.text.includes(f));
  return { name, status: "missing", detail: `${pending.length} of ${all.length} not applied to ${t.stateDir}`, fix };
}

async function runnerRow(t: DoctorTarget): Promise<{ row: HostCheck; checks?: HostCheck[] }> {
  const r = await get(`${t.runnerUrl}/healthz`);
  if (!r.ok) {
    return { row: { name: "runner", status: "missing", detail: `not reachable at ${t.runnerUrl} (${r.reason})`, fix: "npm start (it starts the runner and restarts it when it dies)" } };
  }
  const body = r.body as { driver?: string; running?: number; capacity?: number; checks?: HostCheck[] } | null;
  const row: HostCheck = { name: "runner", status: "ok", detail: `${t.runnerUrl} answers (${body?.driver ?? "?"} driver, ${body?.running ?? 0}/${body?.capacity ?? "?"} running)` };
  return { row, ...(Array.isArray(body?.checks) ? { checks: body.checks } : {}) };
}

/** The runner's host checks, run on this machine because the runner cannot answer for itself. */
async function localHostRows(t: DoctorTarget): Promise<HostCheck[]> {
  const note = " (checked here: the runner is down)";
  const host = hostChecks(t.host).map((c) => ({ ...c, detail: c.detail + note }));
  if (host.some((c) => c.status !== "ok")) {
    return [...host, { name: "prober image", status: "missing", detail: "not checked: the sandbox driver and tracer come first", onlyForTestScripts: true }];
  }
  const present = (await podman(["image", "exists", t.proberImage], { timeoutMs: 30_000 }).catch(() => null))?.code === 0;
  const buildable = findOnPath("debootstrap", t.host.path) !== null;
  const prober: HostCheck = present
    ? { name: "prober image", status: "ok", detail: t.proberImage + note, onlyForTestScripts: true }
    : {
        name: "prober image",
        status: "missing",
        detail: `${t.proberImage} is not on this host${buildable ? "; the runner builds it when it starts" : ", and the runner cannot build it without debootstrap"}`,
        fix: buildable ? "npm start" : "apt-get install -y debootstrap",
        onlyForTestScripts: true,
      };
  return [...host, prober];
}

function runText(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; text: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CI: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout!.on("data", (c: Buffer) => (text += c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => (text += c.toString("utf8")));
    child.on("error", (err) => resolve({ code: null, text, error: err.message }));
    child.on("close", (code) => resolve({ code, text }));
  });
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).at(-1)?.slice(0, 300) ?? "no output";
}
