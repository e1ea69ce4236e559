/** Runs one helper pod (prober or ZAP) to completion and returns its log; always deletes it. */
import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { SandboxError } from "../types.js";
import type { DriverContext } from "./context.js";
import { deleteObject, createReplacing } from "./objects.js";
import { readLog } from "./logs.js";
import { helperOutcome } from "./status.js";
import { waitUntil, WatchTimeout } from "./watcher.js";

export interface HelperRun {
  exitCode: number | null;
  reason?: string;
  log: string;
  timedOut: boolean;
  durationMs: number;
}

export async function runHelperPod(
  ctx: DriverContext,
  configMap: V1ConfigMap,
  pod: V1Pod,
  container: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HelperRun> {
  const ns = ctx.cfg.namespace;
  const name = pod.metadata?.name ?? "";
  const cmName = configMap.metadata?.name ?? "";
  const started = Date.now();
  try {
    await createReplacing(ctx.clients, "ConfigMap", ns, configMap);
    await createReplacing(ctx.clients, "Pod", ns, pod);
    let outcome: Exclude<ReturnType<typeof helperOutcome>, "pending" | SandboxError> | undefined;
    try {
      outcome = await waitUntil(
        [ctx.pods],
        () => {
          const o = helperOutcome(ctx.pods.get(name), container);
          if (o instanceof SandboxError) throw o;
          if (o !== "pending") return o;
          if (ctx.pods.isGone(name)) throw new SandboxError("internal", `the ${container} pod disappeared before it finished`);
          return undefined;
        },
        timeoutMs,
        signal,
        `the ${container} pod`,
      );
    } catch (err) {
      if (!(err instanceof WatchTimeout)) throw err;
    }
    const log = outcome ? await readLog(ctx.clients, ns, name, container) : "";
    const durationMs =
      outcome?.startedAt && outcome.finishedAt ? outcome.finishedAt.getTime() - outcome.startedAt.getTime() : Date.now() - started;
    return {
      exitCode: outcome ? outcome.exitCode : null,
      reason: outcome?.reason,
      log,
      timedOut: !outcome || outcome.reason === "DeadlineExceeded" || outcome.exitCode === 124,
      durationMs,
    };
  } finally {
    await deleteObject(ctx.clients, "Pod", ns, name, 0).catch(() => undefined);
    await deleteObject(ctx.clients, "ConfigMap", ns, cmName).catch(() => undefined);
    ctx.pods.forget([name]);
  }
}
