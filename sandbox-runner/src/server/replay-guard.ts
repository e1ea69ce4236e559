/**
 * Remembers the nonces of accepted signed requests for as long as their timestamp would still pass
 * the signature's time window, and refuses a nonce seen before. Memory is bounded: when full of live
 * nonces it refuses new requests (the Worker retries) rather than forgetting one that could be replayed.
 * Only requests with a valid signature are recorded, so only the secret's holder can fill it.
 */
import { SIGNATURE_TOLERANCE_SECONDS } from "@vexxy/contract";

export type NonceVerdict = "fresh" | "replayed" | "full";

export class ReplayGuard {
  /** nonce → expiry (ms). Insertion order is roughly expiry order, which makes sweeping cheap. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  check(nonce: string, timestampSeconds: number): NonceVerdict {
    const now = this.now();
    const expiry = (timestampSeconds + SIGNATURE_TOLERANCE_SECONDS) * 1000;
    const known = this.seen.get(nonce);
    if (known !== undefined && known >= now) return "replayed";
    if (this.seen.size >= this.maxEntries) this.sweep(now);
    if (this.seen.size >= this.maxEntries) return "full";
    this.seen.set(nonce, expiry);
    return "fresh";
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [nonce, expiry] of this.seen) if (expiry < now) this.seen.delete(nonce);
  }
}
