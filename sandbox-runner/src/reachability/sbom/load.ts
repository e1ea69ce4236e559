import { InputFormatError, isRecord } from "../errors.js";
import type { PackageInventory } from "../types.js";
import { inventoryFromCycloneDx, isCycloneDx } from "./cyclonedx.js";
import { inventoryFromSpdx, isSpdx } from "./spdx.js";
import { inventoryFromSyft, isSyftJson } from "./syft.js";

/** Reads a Syft JSON, CycloneDX 1.4–1.6 JSON or SPDX 2.3 JSON document (already JSON-parsed). */
export function loadInventory(doc: unknown): PackageInventory {
  if (!isRecord(doc)) throw new InputFormatError("SBOM must be a JSON object (Syft JSON, CycloneDX JSON or SPDX 2.3 JSON)");
  // An in-toto attestation (cosign attest --type cyclonedx|spdxjson) wraps the SBOM in `predicate`.
  const body = isRecord(doc.predicate) && typeof doc.predicateType === "string" ? doc.predicate : doc;
  if (isSyftJson(body)) return inventoryFromSyft(body);
  if (isCycloneDx(body)) {
    const spec = String(body.specVersion ?? "");
    if (spec && !/^1\.[2-6]$/.test(spec)) {
      throw new InputFormatError(`CycloneDX specVersion ${spec} is not supported (1.2–1.6 JSON are)`);
    }
    return inventoryFromCycloneDx(body);
  }
  if (isSpdx(body)) {
    const v = String(body.spdxVersion);
    if (!/^SPDX-2\.[2-3]$/.test(v)) throw new InputFormatError(`SPDX version ${v} is not supported (SPDX-2.2/2.3 JSON are)`);
    return inventoryFromSpdx(body);
  }
  if (Array.isArray(body.matches) || Array.isArray(body.Results)) {
    throw new InputFormatError("this looks like a vulnerability report (Grype/Trivy), not an SBOM");
  }
  const keys = Object.keys(body).slice(0, 6).join(", ");
  throw new InputFormatError(
    `unrecognised SBOM: expected Syft JSON (artifacts[]), CycloneDX JSON (bomFormat "CycloneDX") or SPDX 2.3 JSON (spdxVersion); top-level keys were: ${keys || "(none)"}`,
  );
}
