/**
 * `npm run doctor` against a stack that is down: it names the Worker and the runner it could not
 * reach, each with the command that fixes it, and exits 1.
 */
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const doctor = fileURLToPath(new URL("../../src/cli/doctor.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
const state = mkdtempSync(join(tmpdir(), "vexxy-doctor-state-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("npm run doctor", () => {
  it("with the runner and the Worker down: names each, the fix, unapplied migrations, and exits 1", async () => {
    const [port, runnerPort] = [await closedPort(), await closedPort()];
    const r = spawnSync(tsx, [doctor], {
      env: { PATH: process.env.PATH ?? "", PORT: String(port), RUNNER_PORT: String(runnerPort), VEXXY_STATE_DIR: state },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n");
    const row = (name: string) => lines.findIndex((l) => l.includes(` ${name} `));
    const runner = row("runner");
    expect(lines[runner]).toContain(`FIX   runner`);
    expect(lines[runner]).toContain(`not reachable at http://127.0.0.1:${runnerPort} (connection refused)`);
    expect(lines[runner + 1]).toContain("→ npm start");
    expect(lines[row("Worker")]).toContain(`not reachable at http://127.0.0.1:${port} (connection refused)`);
    const migrations = row("D1 migrations");
    expect(lines[migrations]).toMatch(/FIX {3}D1 migrations +\d+ of \d+ not applied/);
    expect(lines[migrations + 1]).toContain(`→ npx wrangler d1 migrations apply DB --local --persist-to ${state}`);
    // The runner's host is checked here instead, and says so.
    expect(lines[row("sandbox driver")]).toContain("(checked here: the runner is down)");
    expect(r.stdout).toContain("Analyses cannot run yet");
  });

  it("never opens the D1 database a running Worker serves from (a second open made its writes fail); npm start says what it applied", async () => {
    // A Worker that answers /health; the state dir has no migrations applied at all.
    const worker = createHttpServer((_req, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((r) => worker.listen(0, "127.0.0.1", r));
    const port = (worker.address() as { port: number }).port;
    const runnerPort = await closedPort();
    const run = (extra: Record<string, string> = {}) =>
      new Promise<string>((resolve) => {
        // Asynchronous, so this process's stub Worker can answer the doctor.
        const child = spawn(tsx, [doctor], { env: { PATH: process.env.PATH ?? "", PORT: String(port), RUNNER_PORT: String(runnerPort), VEXXY_STATE_DIR: state, ...extra } });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("close", () => resolve(out));
      });
    try {
      const line = (out: string) => out.split("\n").find((l) => l.includes(" D1 migrations ")) ?? "";
      expect(line(await run())).toMatch(/ok {4}D1 migrations +not checked while the Worker serves from/);
      expect(line(await run({ VEXXY_MIGRATIONS: "applied" }))).toMatch(/ok {4}D1 migrations +applied by npm start/);
      expect(line(await run({ VEXXY_MIGRATIONS: "failed" }))).toMatch(/FIX {3}D1 migrations +npm start could not apply them/);
    } finally {
      worker.close();
    }
  });
});
