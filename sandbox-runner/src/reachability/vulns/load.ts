import { InputFormatError, isRecord } from "../errors.js";
import type { VulnerabilityMatch } from "../types.js";
import { vulnerabilitiesFromCycloneDx } from "./cyclonedx.js";
import { isGrypeJson, vulnerabilitiesFromGrype } from "./grype.js";
import { isTrivyJson, vulnerabilitiesFromTrivy } from "./trivy.js";

/** Reads Grype JSON, Trivy JSON or a CycloneDX document with `vulnerabilities` (already JSON-parsed). */
export function loadVulnerabilities(doc: unknown): VulnerabilityMatch[] {
  if (!isRecord(doc)) throw new InputFormatError("vulnerability report must be a JSON object (Grype JSON, Trivy JSON or CycloneDX with vulnerabilities)");
  if (isGrypeJson(doc)) return vulnerabilitiesFromGrype(doc);
  if (isTrivyJson(doc)) return vulnerabilitiesFromTrivy(doc);
  if (doc.bomFormat === "CycloneDX") {
    if (!Array.isArray(doc.vulnerabilities)) {
      throw new InputFormatError("CycloneDX document has no vulnerabilities[]: this is an SBOM, not a vulnerability report");
    }
    return vulnerabilitiesFromCycloneDx(doc);
  }
  if (Array.isArray(doc.artifacts) || typeof doc.spdxVersion === "string") {
    throw new InputFormatError("this looks like an SBOM (Syft/SPDX), not a vulnerability report");
  }
  const keys = Object.keys(doc).slice(0, 6).join(", ");
  throw new InputFormatError(
    `unrecognised vulnerability report: expected Grype JSON (matches[]), Trivy JSON (Results[]) or CycloneDX with vulnerabilities[]; top-level keys were: ${keys || "(none)"}`,
  );
}
