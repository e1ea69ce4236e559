/**
 * CycloneDX `vulnerabilities[]` (Grype `-o cyclonedx-json`, Trivy `--format cyclonedx`, Dependency
 * Track): each names the affected components by `affects[].ref` (a bom-ref, or a purl).
 */
import { arr, isRecord, str } from "../errors.js";
import { parsePurl } from "../purl.js";
import { flattenComponents } from "../sbom/cyclonedx.js";
import type { VulnerabilityMatch } from "../types.js";

export function vulnerabilitiesFromCycloneDx(doc: Record<string, unknown>): VulnerabilityMatch[] {
  const byRef = new Map<string, Record<string, unknown>>();
  for (const c of flattenComponents(doc)) {
    const ref = str(c["bom-ref"]);
    if (ref) byRef.set(ref, c);
  }
  const out: VulnerabilityMatch[] = [];
  for (const v of arr(doc.vulnerabilities)) {
    if (!isRecord(v)) continue;
    const id = str(v.id);
    if (!id) continue;
    const aliases = new Set<string>();
    for (const r of arr(v.references)) {
      const rid = isRecord(r) ? str(r.id) : undefined;
      if (rid && rid !== id) aliases.add(rid);
    }
    const severity = arr(v.ratings)
      .map((r) => (isRecord(r) ? str(r.severity) : undefined))
      .find((s) => s !== undefined && s !== "unknown" && s !== "none");
    const fixVersions = fixesOf(v);
    for (const a of arr(v.affects)) {
      const ref = isRecord(a) ? str(a.ref) : undefined;
      if (!ref) continue;
      // BOM-Link refs (urn:cdx:<serial>/<version>#<bom-ref>) point into this or another BOM.
      const local = ref.startsWith("urn:cdx:") && ref.includes("#") ? ref.slice(ref.indexOf("#") + 1) : ref;
      const c = byRef.get(local);
      const purl = (c ? str(c.purl) : undefined) ?? (local.startsWith("pkg:") ? local : undefined);
      const parsed = purl ? parsePurl(purl) : undefined;
      const name = (c ? str(c.name) : undefined) ?? parsed?.name;
      if (!name) continue;
      out.push({
        id,
        aliases: [...aliases],
        ...(severity ? { severity } : {}),
        ...(str(v.description) ? { description: str(v.description) } : {}),
        package: { name, version: (c ? str(c.version) : undefined) ?? parsed?.version ?? "", purl, ecosystem: parsed?.type },
        fixVersions,
        fixState: fixVersions.length > 0 ? "fixed" : "unknown",
        source: "cyclonedx",
      });
    }
  }
  return out;
}

/** CycloneDX 1.5 `affects[].versions` with status "unaffected" name fixed versions. */
function fixesOf(v: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const a of arr(v.affects)) {
    if (!isRecord(a)) continue;
    for (const ver of arr(a.versions)) {
      if (isRecord(ver) && ver.status === "unaffected" && str(ver.version)) out.add(ver.version as string);
    }
  }
  return [...out];
}
