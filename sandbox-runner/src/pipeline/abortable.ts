/**
 * Races a driver call against the job's abort signal, so a cancel stops the pipeline wherever it is
 * even when a driver call ignores its signal. `onLateResult` disposes of a value (a sandbox) that
 * arrives after the race was lost, so nothing started for an aborted job is left running.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal, onLateResult?: (value: T) => unknown): Promise<T> {
  // Late results are disposed of best-effort: a failed disposal is left to the orphan sweep.
  const disposeLate = () => void work.then(onLateResult).catch(() => undefined);
  if (signal.aborted) {
    disposeLate();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      disposeLate();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (settled) return;
        settled = true;
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        if (settled) return;
        settled = true;
        reject(e);
      },
    );
  });
}
