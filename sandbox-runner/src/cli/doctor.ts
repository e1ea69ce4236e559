/**
 * `npm run doctor`: can this machine's local stack run analyses? Prints one row per piece (Worker,
 * D1 migrations, runner, sandbox driver, tracer, prober image) with the command that fixes each
 * missing one; exit 0 when analyses can run (a prober image still being built counts: test-script
 * jobs wait for it), 1 otherwise. `npm start` prints the same table once the stack is up.
 *
 * Where it looks: WORKER_URL / RUNNER_URL, else 127.0.0.1 on PORT (8001) / RUNNER_PORT (8002);
 * D1 state in VEXXY_STATE_DIR (.wrangler/state); the prober image RUNNER_PROBER_IMAGE.
 */
import { fileURLToPath } from "node:url";
import { DEFAULT_PROBER_IMAGE } from "../drivers/podman/driver.js";
import { currentHost } from "../drivers/podman/host-check.js";
import { diagnose, type Diagnosis } from "../doctor/diagnose.js";

const MARK = { ok: "ok  ", preparing: "wait", missing: "FIX " } as const;

export function formatDiagnosis(d: Diagnosis): string {
  const width = Math.max(...d.rows.map((r) => r.name.length));
  const lines = ["Readiness for analyses (npm run doctor):"];
  for (const r of d.rows) {
    lines.push(`  ${MARK[r.status]}  ${r.name.padEnd(width)}  ${r.detail}`);
    if (r.fix && r.status !== "ok") lines.push(`  ${" ".repeat(4)}  ${" ".repeat(width)}  → ${r.fix}`);
  }
  const waiting = d.rows.some((r) => r.status === "preparing");
  lines.push(
    d.canRun
      ? `Analyses can run${waiting ? " (jobs with a test script wait for what is marked wait)" : ""}.`
      : "Analyses cannot run yet: run the commands marked →, then npm run doctor again.",
  );
  return lines.join("\n") + "\n";
}

export async function main(env: Record<string, string | undefined> = process.env): Promise<number> {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const d = await diagnose({
    workerUrl: (env.WORKER_URL ?? `http://127.0.0.1:${env.PORT ?? "8001"}`).replace(/\/+$/, ""),
    runnerUrl: (env.RUNNER_URL ?? `http://127.0.0.1:${env.RUNNER_PORT ?? "8002"}`).replace(/\/+$/, ""),
    root,
    stateDir: env.VEXXY_STATE_DIR ?? ".wrangler/state",
    proberImage: env.RUNNER_PROBER_IMAGE || DEFAULT_PROBER_IMAGE,
    host: currentHost(),
    ...(env.VEXXY_MIGRATIONS === "applied" || env.VEXXY_MIGRATIONS === "failed" ? { migrationsAtStart: env.VEXXY_MIGRATIONS } : {}),
  });
  process.stdout.write(formatDiagnosis(d));
  return d.canRun ? 0 : 1;
}

if (process.argv[1]?.endsWith("cli/doctor.ts")) {
  process.exitCode = await main();
}
