/** Recognises the inline SBOM and vulnerability formats the runner's engine reads. */
export type SbomFormat = "cyclonedx" | "spdx" | "syft";
export type VulnFormat = "grype" | "trivy" | "cyclonedx";

export function detectSbomFormat(doc: Record<string, unknown>): SbomFormat | null {
  if (doc.bomFormat === "CycloneDX" && typeof doc.specVersion === "string" && /^1\.[4-6]$/.test(doc.specVersion)) return "cyclonedx";
  if (doc.spdxVersion === "SPDX-2.3") return "spdx";
  const descriptor = doc.descriptor as { name?: unknown } | undefined;
  if (Array.isArray(doc.artifacts) && (descriptor?.name === "syft" || typeof doc.schema === "object")) return "syft";
  return null;
}

export function detectVulnFormat(doc: Record<string, unknown>): VulnFormat | null {
  if (Array.isArray(doc.matches)) return "grype";
  if (typeof doc.SchemaVersion === "number" || Array.isArray(doc.Results)) return "trivy";
  if (doc.bomFormat === "CycloneDX" && Array.isArray(doc.vulnerabilities)) return "cyclonedx";
  return null;
}
