/**
 * OWASP ZAP per job: its own container in the target's network namespace, driven by a generated
 * automation-framework plan, writing a traditional-json report into the job's directory. One ZAP per
 * scan, so alerts of different jobs never mix.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ZapResult } from "../types.js";
import { zapRunArgs } from "./container-args.js";
import { podman } from "./exec.js";

export const DEFAULT_ZAP_IMAGE = "ghcr.io/zaproxy/zaproxy:stable";
const REPORT_FILE = "zap-report";

export interface ZapPlanOptions {
  ports: number[];
  /** Minutes for the spider and, when enabled, the active scan. */
  maxMinutes: number;
  activeScan: boolean;
}

/**
 * The automation plan. Written as JSON, which ZAP's YAML loader reads as flow-style YAML, so no YAML
 * library is needed and the plan is a plain value tests can inspect.
 */
export function zapPlan(opts: ZapPlanOptions): Record<string, unknown> {
  const urls = opts.ports.map((p) => `http://localhost:${p}/`);
  const jobs: Record<string, unknown>[] = [
    { type: "spider", parameters: { context: "vexxy", maxDuration: opts.maxMinutes } },
    { type: "passiveScan-wait", parameters: { maxDuration: opts.maxMinutes } },
  ];
  if (opts.activeScan) jobs.push({ type: "activeScan", parameters: { context: "vexxy", maxScanDurationInMins: opts.maxMinutes } });
  jobs.push({
    type: "report",
    parameters: { template: "traditional-json", reportDir: "/zap/wrk", reportFile: REPORT_FILE },
  });
  return {
    env: {
      contexts: [{ name: "vexxy", urls, includePaths: urls.map((u) => `${u.replace(/[.]/g, "\\.")}.*`) }],
      parameters: { failOnError: false, progressToStdout: true },
    },
    jobs,
  };
}

export async function runZap(opts: {
  jobId: string;
  targetName: string;
  zapImage: string;
  workDir: string;
  ports: number[];
  timeoutMs: number;
  signal: AbortSignal;
  runnerId?: string;
}): Promise<ZapResult> {
  if (opts.ports.length === 0) return { status: "skipped", reason: "the job exposes no ports to scan" };
  const exists = await podman(["image", "exists", opts.zapImage], { signal: opts.signal });
  if (exists.code !== 0) {
    return { status: "skipped", reason: `ZAP image ${opts.zapImage} is not available on this runner` };
  }
  await mkdir(opts.workDir, { recursive: true, mode: 0o777 });
  const plan = zapPlan({ ports: opts.ports, maxMinutes: Math.max(1, Math.floor(opts.timeoutMs / 120_000)), activeScan: false });
  await writeFile(join(opts.workDir, "plan.yaml"), JSON.stringify(plan, null, 2));
  const r = await podman(zapRunArgs(opts), { signal: opts.signal, timeoutMs: opts.timeoutMs, maxOutputBytes: 256 * 1024 });
  if (opts.signal.aborted) throw opts.signal.reason;
  if (r.timedOut) return { status: "failed", reason: `ZAP did not finish within ${Math.round(opts.timeoutMs / 1000)} s` };
  try {
    const report: unknown = JSON.parse(await readFile(join(opts.workDir, `${REPORT_FILE}.json`), "utf8"));
    return { status: "completed", report };
  } catch {
    return { status: "failed", reason: `ZAP exited with ${r.code} and wrote no report: ${r.stderr.trim().slice(-500)}` };
  }
}
