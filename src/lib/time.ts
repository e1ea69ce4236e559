/** ISO-8601 UTC with second precision, as the spec's examples show ("2025-11-01T00:00:00Z"). */
export function iso(date: Date | number): string {
  const d = typeof date === "number" ? new Date(date) : date;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function isoNow(): string {
  return iso(Date.now());
}

/** Adds calendar months in UTC, clamping the day (Jan 31 + 1 month = Feb 28/29). */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const day = d.getUTCDate();
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}
