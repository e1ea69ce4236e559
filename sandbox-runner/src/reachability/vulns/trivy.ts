/**
 * Trivy JSON (`trivy image -f json`, SchemaVersion 2): Results[] per target, each with
 * Vulnerabilities[] of { VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Status,
 * PkgIdentifier.PURL, VendorIDs, Severity }.
 */
import { arr, isRecord, str } from "../errors.js";
import type { VulnerabilityMatch } from "../types.js";

export function isTrivyJson(doc: Record<string, unknown>): boolean {
  return Array.isArray(doc.Results) || (typeof doc.SchemaVersion === "number" && "ArtifactName" in doc);
}

const STATUS: Record<string, VulnerabilityMatch["fixState"]> = {
  fixed: "fixed",
  affected: "not-fixed",
  will_not_fix: "wont-fix",
  fix_deferred: "not-fixed",
  end_of_life: "wont-fix",
};

export function vulnerabilitiesFromTrivy(doc: Record<string, unknown>): VulnerabilityMatch[] {
  const out: VulnerabilityMatch[] = [];
  for (const r of arr(doc.Results)) {
    if (!isRecord(r)) continue;
    const targetType = str(r.Type);
    for (const v of arr(r.Vulnerabilities)) {
      if (!isRecord(v)) continue;
      const id = str(v.VulnerabilityID);
      const name = str(v.PkgName);
      if (!id || !name) continue;
      const ident = isRecord(v.PkgIdentifier) ? v.PkgIdentifier : {};
      const fixed = str(v.FixedVersion);
      const fixVersions = fixed ? fixed.split(",").map((s) => s.trim()).filter((s) => s !== "") : [];
      const vendor = arr(v.VendorIDs).filter((x): x is string => typeof x === "string" && x !== id);
      out.push({
        id,
        aliases: [...new Set(vendor)],
        ...(str(v.Severity) ? { severity: str(v.Severity) } : {}),
        ...(str(v.Title) || str(v.Description) ? { description: str(v.Title) ?? str(v.Description) } : {}),
        package: {
          name,
          version: str(v.InstalledVersion) ?? "",
          ecosystem: trivyEcosystem(targetType),
          purl: str(ident.PURL),
        },
        fixVersions,
        fixState: STATUS[str(v.Status) ?? ""] ?? (fixVersions.length > 0 ? "fixed" : "unknown"),
        source: "trivy",
      });
    }
  }
  return out;
}

/** Trivy's result Type names the OS or language; map the common ones to purl types. */
function trivyEcosystem(t: string | undefined): string | undefined {
  if (!t) return undefined;
  const map: Record<string, string> = {
    alpine: "apk",
    wolfi: "apk",
    chainguard: "apk",
    debian: "deb",
    ubuntu: "deb",
    redhat: "rpm",
    centos: "rpm",
    rocky: "rpm",
    alma: "rpm",
    amazon: "rpm",
    "python-pkg": "pypi",
    pip: "pypi",
    poetry: "pypi",
    "node-pkg": "npm",
    npm: "npm",
    yarn: "npm",
    gobinary: "golang",
    gomod: "golang",
    jar: "maven",
    pom: "maven",
    "rust-binary": "cargo",
    cargo: "cargo",
    gemspec: "gem",
    bundler: "gem",
  };
  return map[t] ?? t;
}
