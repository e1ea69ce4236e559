/**
 * One job, start to finish: the phases in order, progress as they happen, the sandbox destroyed on
 * every path, and exactly one final callback (complete or fail) unless the Worker has already
 * finished the job. Never throws: every outcome is reported and returned.
 */
import { PHASE_LABELS, PROBER_WAIT_PHASE, type CompleteCallback, type DispatchJob, type FailCallback, type JobPhase, type SecurityFindings } from "@vexxy/contract";
import type { CoverageResult, Sandbox, SandboxSpec, ScriptResult } from "../drivers/types.js";
import type { JobFinalState } from "../metrics.js";
import type { RunHealth, RuntimeTrace } from "../trace/types.js";
import { abortable } from "./abortable.js";
import type { AnalysisContext } from "./analysis.js";
import type { PipelineDeps } from "./deps.js";
import { JobAbort, WorkloadFailure } from "./errors.js";
import { buildExecutionProfile } from "./execution-profile.js";
import { clampMessage, classifyFailure } from "./failure.js";
import { errorMessage } from "./log.js";
import { JobGoneError } from "../worker-client/errors.js";
import { planPhases } from "./phases.js";
import { ProgressReporter } from "./progress.js";
import { notRequested, scanFailed, securityFindings } from "./security-findings.js";

export interface RunJobOptions {
  job: DispatchJob;
  signal: AbortSignal;
  /** Aborts this job (used when the Worker answers that the job is gone). */
  abort: (reason: JobAbort) => void;
  deps: PipelineDeps;
}

/** Seconds of slack beyond the phase budgets before the driver kills the sandbox on its own. */
const SANDBOX_SLACK_SECONDS = 120;

export async function runJob({ job, signal, abort, deps }: RunJobOptions): Promise<JobFinalState> {
  const { driver, worker, metrics, logger, settings } = deps;
  const plan = planPhases(job.config);
  const progress = new ProgressReporter({
    jobId: job.job_id,
    plan,
    worker,
    heartbeatMs: settings.heartbeatMs,
    signal,
    onGone: (err) => abort(new JobAbort("gone", err.message)),
    logger,
    metrics,
  });
  const spec = sandboxSpec(job, deps);
  const log = (msg: string, fields: Record<string, unknown> = {}) => logger.info(msg, { job_id: job.job_id, attempt: job.attempt, ...fields });

  /** Runs one phase: reports it, times it, and gives up the moment the job is aborted. */
  async function phase<T>(name: JobPhase, work: () => Promise<T>, budgetMs = 0, onLate?: (v: T) => unknown): Promise<T> {
    signal.throwIfAborted();
    progress.enter(name, budgetMs);
    const end = metrics.phaseDuration.startTimer({ phase: name });
    try {
      return await abortable(work(), signal, onLate);
    } finally {
      end();
    }
  }

  let sandbox: Sandbox | undefined;
  let stoppedAt: number | undefined;
  const sandboxSeconds = () => (sandbox ? Math.max(0, ((stoppedAt ?? Date.now()) - sandbox.startedAt.getTime()) / 1000) : 0);

  log("job started", { image_digest: job.image_digest });
  // Removing the sandbox overlaps the analysis; every path waits for it before the job ends.
  let destroyed: Promise<void> = Promise.resolve();
  try {
    // --- In the sandbox: everything up to and including the evidence. -----------------------------
    let evidence: Evidence;
    let inputs: Promise<AnalysisContext["inputs"]> | undefined;
    try {
      await holdUntilReady();
      await phase("pulling_image", () => driver.prepareImage(spec, signal));
      sandbox = await phase("starting_sandbox", () => driver.start(spec, settings.limits, signal), 0, (late) => late.destroy());
      progress.sandboxStarted(sandbox.startedAt);
      // What the analysis needs from the image and the Worker is fetched while the application runs.
      deps.analysis.prefetch?.(spec);
      inputs = fetchInputs();
      inputs.catch(() => {});
      evidence = await exercise(sandbox);
    } finally {
      if (sandbox && stoppedAt === undefined) stoppedAt = Date.now();
      // The evidence (trace, coverage) is already read; nothing below needs the sandbox.
      if (sandbox) destroyed = destroy(sandbox);
    }

    // --- After the sandbox: analysis and VEX. ---------------------------------------------------
    const ctx: AnalysisContext = {
      job,
      spec,
      trace: evidence.trace,
      health: evidence.health,
      inputs: { sbom: null, vulnerabilities: null },
      signal,
    };
    const report = await phase("computing_reachability", async () => {
      ctx.inputs = await (inputs ?? fetchInputs());
      return deps.analysis.computeReachability(ctx);
    });
    const vex = await phase("writing_vex", () => deps.analysis.writeVex(report, ctx));
    await progress.close();
    signal.throwIfAborted();

    const seconds = sandboxSeconds();
    const complete: CompleteCallback = {
      vex_document: vex,
      execution_profile: buildExecutionProfile({
        ...evidence,
        sandboxSeconds: seconds,
        profiling: job.config.enable_profiling,
        codeCoverage: job.config.enable_code_coverage,
      }),
      reachability_results: report,
      security_findings: evidence.findings,
      features_ran: {
        fuzzing: evidence.findings.status === "completed",
        profiling: job.config.enable_profiling,
        code_coverage: job.config.enable_code_coverage && evidence.coverage.supported,
      },
      sandbox_seconds: seconds,
    };
    const delivered = await worker.complete(job.job_id, complete);
    log("job completed", { sandbox_seconds: seconds, delivered });
    await destroyed;
    return delivered === "gone" ? "abandoned" : "completed";
  } catch (err) {
    await progress.close();
    await destroyed;
    return reportFailure(err);
  }

  /**
   * Waits until the driver can run this job (a test-script job waits for the prober image while it
   * is built), reporting the holding phase meanwhile as the heartbeat that keeps its lease alive.
   * A host that lacks something throws sandbox_unavailable from here, before anything ran.
   */
  async function holdUntilReady(): Promise<void> {
    if (!driver.whenReady) return;
    let beat: NodeJS.Timeout | undefined;
    const report = () => {
      const body = { phase: PROBER_WAIT_PHASE, progress_percent: 0, message: PHASE_LABELS[PROBER_WAIT_PHASE] };
      worker.progress(job.job_id, body, signal).catch((err: unknown) => {
        if (err instanceof JobGoneError) return abort(new JobAbort("gone", err.message));
        if (!signal.aborted) logger.warn("holding heartbeat failed", { job_id: job.job_id, error: errorMessage(err) });
      });
    };
    const onHold = () => {
      log("job waits for the prober image");
      report();
      beat ??= setInterval(report, settings.heartbeatMs);
    };
    try {
      await abortable(driver.whenReady({ testScript: Boolean(job.config.test_script) }, signal, onHold), signal);
    } finally {
      clearInterval(beat);
    }
  }

  /** Health, the script or probes, ZAP, then stop: the part of the run that is billed. */
  async function exercise(sb: Sandbox): Promise<Evidence> {
    const notes: string[] = [];
    const hasPorts = job.config.ports.length > 0;
    const health = await phase("waiting_for_health", () => sb.waitHealthy(settings.healthTimeoutMs, signal), settings.healthTimeoutMs);
    if (!health.healthy) {
      if (hasPorts) throw new WorkloadFailure("unhealthy", `the application never became healthy: ${health.reason ?? "no answer on its ports"}`);
      notes.push(`health check without ports: ${health.reason ?? "not healthy"}`);
    }

    let script: ScriptResult | null = null;
    let mainExitedEarly = false;
    let probes: { port: number; answered: boolean; detail: string }[] | null = null;
    const testScript = job.config.test_script;
    const scriptMs = job.config.test_timeout * 1000;
    if (testScript) {
      script = await phase("running_test_script", () => sb.runScript(testScript, scriptMs, signal), scriptMs);
      if (script.timedOut) throw new WorkloadFailure("timeout", `the test script ran longer than test_timeout (${job.config.test_timeout}s)`);
      notes.push(`test script exited with ${script.exitCode}`);
      if (sb.isRunning && !(await sb.isRunning())) {
        mainExitedEarly = true;
        notes.push("the application's main process had exited before the test script finished");
      }
    } else {
      probes = await phase(
        "running_test_script",
        async () => {
          try {
            return await sb.probe(withTimeout(signal, settings.probeTimeoutMs));
          } catch (err) {
            // Probes that overrun their budget are an unanswered app, not a runner fault.
            signal.throwIfAborted();
            if (!(err instanceof Error && err.name === "TimeoutError")) throw err;
            return job.config.ports.map((port) => ({ port, answered: false, detail: "probe timed out" }));
          }
        },
        settings.probeTimeoutMs,
      );
      notes.push(`no test script; ${probes.filter((p) => p.answered).length}/${probes.length} port probes answered`);
    }

    let findings: SecurityFindings = notRequested();
    if (job.config.enable_fuzzing) {
      findings = await phase(
        "security_scan",
        async () => {
          try {
            return securityFindings(await sb.securityScan(withTimeout(signal, settings.zapTimeoutMs)), deps.analysis.parseZapReport);
          } catch (err) {
            // A scan that breaks or overruns its budget fails the scan, not the job.
            signal.throwIfAborted();
            return scanFailed(`the scan did not finish: ${errorMessage(err)}`);
          }
        },
        settings.zapTimeoutMs,
      );
      notes.push(`security scan ${findings.status}`);
    }

    const stopped = await phase("collecting_evidence", () => sb.stop());
    stoppedAt = Date.now();
    if (stopped.oomKilled) throw new WorkloadFailure("oom_killed", "the application was killed for exceeding its memory limit");
    metrics.recordTrace(stopped.trace);
    if (!stopped.trace.complete) notes.push("the trace is incomplete (events lost or tracing stopped early)");
    notes.push(...(sb.notes ?? []));
    if (!stopped.trace.from_first_exec) notes.push("tracing did not start at the container's first exec");

    // Healthy for the whole run: a service still up when it was stopped (not one that crashed after
    // its health check); without ports, a clean exit, or still running when stopped.
    const stillUp = stopped.wasRunning ?? (stopped.exitCode === null ? true : undefined);
    if (hasPorts && stillUp === false) notes.push(`the application exited (code ${stopped.exitCode}) before the run ended`);
    if (!hasPorts) notes.push(stillUp !== false ? "no ports; still running when stopped" : `no ports; exited with ${stopped.exitCode}`);
    const probesAnswered = probes?.some((p) => p.answered) ?? false;
    const runHealth: RunHealth = {
      healthy: hasPorts ? stillUp !== false : stillUp === false ? stopped.exitCode === 0 : stillUp === true ? health.healthy : stopped.exitCode === 0,
      exercised: script ? script.exitCode === 0 : probesAnswered || findings.status === "completed",
      ...(script ? (script.exitCode === 0 ? { exercised_by: "test_script" as const } : {}) : probesAnswered ? { exercised_by: "probes" as const } : findings.status === "completed" ? { exercised_by: "security_scan" as const } : {}),
      ...(script ? { script_ms: script.durationMs } : {}),
      ...(mainExitedEarly ? { main_exited_early: true } : {}),
      notes,
    };
    return { trace: stopped.trace, coverage: stopped.coverage, exitCode: stopped.exitCode, health: runHealth, script, probes, findings };
  }

  async function fetchInputs(): Promise<AnalysisContext["inputs"]> {
    const [sbom, vulnerabilities] = await Promise.all([
      job.inputs.sbom ? worker.fetchInput(job.job_id, "sbom", signal) : null,
      job.inputs.vulnerabilities ? worker.fetchInput(job.job_id, "vulnerabilities", signal) : null,
    ]);
    return { sbom, vulnerabilities };
  }

  async function destroy(sb: Sandbox): Promise<void> {
    try {
      await sb.destroy();
    } catch (err) {
      // The driver's orphan sweep removes what is left at the next start; the job's outcome stands.
      logger.error("sandbox destroy failed", { job_id: job.job_id, sandbox_id: sb.id, error: errorMessage(err) });
    }
  }

  async function reportFailure(err: unknown): Promise<JobFinalState> {
    const c = classifyFailure(err, signal);
    if (c.kind === "gone") {
      log("job abandoned: the Worker has finished it", { reason: c.message });
      return "abandoned";
    }
    metrics.sandboxFailures.inc({ code: c.error_code });
    const body: FailCallback = {
      error_code: c.error_code,
      error_message: clampMessage(c.message),
      fault: c.fault,
      sandbox_ran: sandbox !== undefined,
      sandbox_seconds: sandboxSeconds(),
    };
    logger.warn("job failed", { job_id: job.job_id, ...body });
    try {
      await worker.fail(job.job_id, body);
    } catch (sendErr) {
      metrics.callbackFailures.inc({ kind: "fail" });
      logger.error("fail callback not delivered", { job_id: job.job_id, error: errorMessage(sendErr) });
    }
    return c.error_code === "cancelled" ? "cancelled" : "failed";
  }
}

interface Evidence {
  trace: RuntimeTrace;
  coverage: CoverageResult;
  exitCode: number | null;
  health: RunHealth;
  script: ScriptResult | null;
  probes: { port: number; answered: boolean; detail: string }[] | null;
  findings: SecurityFindings;
}

function sandboxSpec(job: DispatchJob, deps: PipelineDeps): SandboxSpec {
  const s = deps.settings;
  const phaseBudget =
    s.healthTimeoutMs / 1000 +
    (job.config.test_script ? job.config.test_timeout : s.probeTimeoutMs / 1000) +
    (job.config.enable_fuzzing ? s.zapTimeoutMs / 1000 : 0);
  return {
    jobId: job.job_id,
    imageRef: job.image_ref,
    imageDigest: job.image_digest,
    ports: job.config.ports,
    environment: job.config.environment,
    timeoutSeconds: Math.ceil(phaseBudget + SANDBOX_SLACK_SECONDS),
    codeCoverage: job.config.enable_code_coverage,
  };
}

function withTimeout(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}
