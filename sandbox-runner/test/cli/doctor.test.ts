/**
 * `npm run doctor` against a stack that is down: it names the Worker and the runner it could not
 * reach, each with the command that fixes it, and exits 1.
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
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
});
