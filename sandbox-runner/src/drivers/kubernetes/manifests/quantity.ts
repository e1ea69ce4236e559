/** Just enough Kubernetes quantity arithmetic to keep requests at or below limits. */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  const n = Number(m[1]);
  const suffix = m[2] ?? "";
  if (!suffix) return n;
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  if (factor === undefined) throw new Error(`unknown quantity suffix: ${q}`);
  return n * factor;
}

/** CPU cores as millicores, e.g. 1.5 → "1500m". */
export function cpuQuantity(cores: number): string {
  return `${Math.max(1, Math.round(cores * 1000))}m`;
}

/** The smaller of a configured request and the limit, as a quantity string. */
export function capRequest(request: string, limit: string): string {
  return parseQuantity(request) <= parseQuantity(limit) ? request : limit;
}
