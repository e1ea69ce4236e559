/**
 * A list+watch cache over one resource, built on the client's informer. The informer reconnects by
 * itself when the server closes a watch; on an error it stops, so this restarts it after a delay.
 * Waiters re-evaluate on every event instead of polling.
 */
import { type KubeConfig, type KubernetesListObject, type KubernetesObject, makeInformer } from "@kubernetes/client-node";

interface WatchedView<T> {
  /** The object as last seen, including its final state if it has been deleted. */
  get(name: string): T | undefined;
  /** True once a DELETED event (or a relist without it) removed the object. */
  isGone(name: string): boolean;
  items(): T[];
}

export class WatchTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WatchTimeout";
  }
}

export class WatchedCollection<T extends KubernetesObject> implements WatchedView<T> {
  private readonly live = new Map<string, T>();
  private readonly gone = new Map<string, T>();
  private readonly listeners = new Set<() => void>();
  private readonly informer;
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;
  /** How many times the informer failed and was restarted (observable in tests). */
  restarts = 0;

  constructor(
    kc: KubeConfig,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    labelSelector: string,
    private readonly restartMs: number,
  ) {
    this.informer = makeInformer<T>(kc, path, list, labelSelector);
    const upsert = (obj: T) => {
      const name = obj.metadata?.name;
      if (!name) return;
      this.live.set(name, obj);
      this.gone.delete(name);
      this.notify();
    };
    this.informer.on("add", upsert);
    this.informer.on("update", upsert);
    this.informer.on("delete", (obj: T) => {
      const name = obj.metadata?.name;
      if (!name) return;
      this.gone.set(name, obj);
      this.live.delete(name);
      this.notify();
    });
    this.informer.on("error", () => this.scheduleRestart());
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
    this.notify();
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.restarts++;
      this.informer.start().catch(() => this.scheduleRestart());
    }, this.restartMs);
    this.restartTimer.unref();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  get(name: string): T | undefined {
    return this.live.get(name) ?? this.gone.get(name);
  }

  isGone(name: string): boolean {
    return !this.live.has(name) && this.gone.has(name);
  }

  items(): T[] {
    return [...this.live.values()];
  }

  /** Forgets deleted objects of one job once nobody waits on them. */
  forget(names: Iterable<string>): void {
    for (const n of names) this.gone.delete(n);
  }

  /** Calls `fn` after every change (and when the watch stops); returns an unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/** Passed to a waiter's pick function: asks for one more evaluation after `ms` (e.g. a grace period). */
export type Wake = (ms: number) => void;

/**
 * Resolves with the first non-undefined value `pick` returns, evaluated now and after every change
 * of any source. Rejects with what `pick` throws, with WatchTimeout after timeoutMs, or with the
 * signal's reason on abort.
 */
export function waitUntil<R>(
  sources: Array<Pick<WatchedCollection<KubernetesObject>, "subscribe">>,
  pick: (wake: Wake) => R | undefined,
  timeoutMs: number,
  signal: AbortSignal,
  what: string,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const wakers = new Set<NodeJS.Timeout>();
    const unsubscribe: Array<() => void> = [];
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const w of wakers) clearTimeout(w);
      for (const u of unsubscribe) u();
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    const wake: Wake = (ms) => {
      const t = setTimeout(() => {
        wakers.delete(t);
        check();
      }, ms);
      wakers.add(t);
    };
    const check = () => {
      if (settled) return;
      try {
        const value = pick(wake);
        if (value !== undefined) finish(() => resolve(value));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    const onAbort = () => finish(() => reject(signal.reason ?? new Error("aborted")));
    const timer = setTimeout(() => finish(() => reject(new WatchTimeout(`timed out waiting for ${what}`))), timeoutMs);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    for (const s of sources) unsubscribe.push(s.subscribe(check));
    check();
  });
}
