/**
 * The runner process: config from the environment (validated once), the driver, orphan sweep, the
 * HTTP server, and graceful shutdown on SIGTERM/SIGINT — refuse new jobs (503), let running ones
 * finish within RUNNER_SHUTDOWN_GRACE_SECONDS, abort the rest (reported as runner_shutdown, a service
 * fault), destroy their sandboxes, exit 0.
 */
import { ConfigError, loadConfig } from "./config.js";
import { selectDriver } from "./drivers/index.js";
import { createMetrics } from "./metrics.js";
import { createDefaultAnalysis } from "./pipeline/default-analysis.js";
import { defaultSettings } from "./pipeline/deps.js";
import { errorMessage, jsonLogger } from "./pipeline/log.js";
import { startRunner } from "./server/runner.js";
import { WorkerClient } from "./worker-client/client.js";

async function main(): Promise<void> {
  const logger = jsonLogger({ service: "sandbox-runner" });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + "\n");
      process.exit(2);
    }
    throw err;
  }

  const { driver, readImageFilesystem, prefetchImageFilesystem, swept } = await selectDriver(config, logger);
  // Crash recovery: sandboxes a previous runner process left behind are removed before we accept work.
  // A runner whose host lacks something (no podman on a developer's machine) still starts: /healthz
  // says what is missing, and jobs fail cleanly as sandbox_unavailable (never billed), naming it,
  // instead of taking the whole local stack down.
  const missing = (driver.readiness?.() ?? []).filter((c) => c.status === "missing" && !c.onlyForTestScripts);
  if (missing.length) {
    logger.warn("analyses cannot run on this host until it is fixed", { missing: missing.map((c) => `${c.name}: ${c.detail} (fix: ${c.fix ?? "-"})`) });
  } else if (!swept) {
    try {
      logger.info("orphan sweep done", { driver: driver.name, removed: await driver.sweepOrphans() });
    } catch (err) {
      logger.warn("sandbox platform unavailable; jobs will fail until it is", { driver: driver.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  // The prober image is looked for, and built when missing, in the background: the server starts
  // now, and test-script jobs that arrive meanwhile wait for it.
  driver.prepare?.().catch((err: unknown) => logger.error("preparing the sandbox driver failed", { error: errorMessage(err) }));

  const metrics = createMetrics({ defaultMetrics: true });
  const runner = await startRunner({
    host: config.host,
    port: config.port,
    secret: config.secret,
    ...(config.previousSecret ? { previousSecret: config.previousSecret } : {}),
    maxConcurrent: config.maxConcurrent,
    queueLimit: config.queueLimit,
    deps: {
      driver,
      worker: new WorkerClient({ baseUrl: config.workerUrl, secret: config.secret }),
      analysis: createDefaultAnalysis({
        vex: config.vex,
        logger,
        ...(readImageFilesystem ? { readImageFilesystem } : {}),
        ...(prefetchImageFilesystem ? { prefetchImageFilesystem } : {}),
      }),
      metrics,
      logger,
      settings: defaultSettings(config),
    },
  });
  logger.info("runner listening", { url: runner.url, driver: driver.name, max_concurrent: config.maxConcurrent });

  const graceMs = config.shutdownGraceSeconds * 1000;
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info("shutting down", { signal, running: runner.jobs.running, grace_seconds: config.shutdownGraceSeconds });
    runner.stop(graceMs).then(
      () => {
        logger.info("shutdown complete");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error("shutdown failed", { error: errorMessage(err) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox-runner failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
