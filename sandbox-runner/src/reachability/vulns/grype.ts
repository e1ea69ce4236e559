/** Grype JSON (`grype -o json`): matches[] of { vulnerability, relatedVulnerabilities, artifact }. */
import { arr, isRecord, str } from "../errors.js";
import type { VulnerabilityMatch } from "../types.js";

export function isGrypeJson(doc: Record<string, unknown>): boolean {
  return Array.isArray(doc.matches);
}

const FIX_STATES: Record<string, VulnerabilityMatch["fixState"]> = {
  fixed: "fixed",
  "not-fixed": "not-fixed",
  "wont-fix": "wont-fix",
  unknown: "unknown",
};

export function vulnerabilitiesFromGrype(doc: Record<string, unknown>): VulnerabilityMatch[] {
  const out: VulnerabilityMatch[] = [];
  for (const m of arr(doc.matches)) {
    if (!isRecord(m) || !isRecord(m.vulnerability) || !isRecord(m.artifact)) continue;
    const v = m.vulnerability;
    const a = m.artifact;
    const id = str(v.id);
    const name = str(a.name);
    if (!id || !name) continue;
    const aliases = new Set<string>();
    for (const r of arr(m.relatedVulnerabilities)) {
      const rid = isRecord(r) ? str(r.id) : undefined;
      if (rid && rid !== id) aliases.add(rid);
    }
    const fix = isRecord(v.fix) ? v.fix : {};
    const description =
      str(v.description) ??
      arr(m.relatedVulnerabilities)
        .map((r) => (isRecord(r) ? str(r.description) : undefined))
        .find((d) => d !== undefined);
    out.push({
      id,
      aliases: [...aliases],
      ...(str(v.severity) ? { severity: str(v.severity) } : {}),
      ...(description ? { description } : {}),
      package: { name, version: str(a.version) ?? "", ecosystem: str(a.type), purl: str(a.purl) },
      fixVersions: arr(fix.versions).filter((x): x is string => typeof x === "string"),
      fixState: FIX_STATES[str(fix.state) ?? "unknown"] ?? "unknown",
      source: "grype",
    });
  }
  return out;
}
