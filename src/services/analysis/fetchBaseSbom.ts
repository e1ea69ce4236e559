import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";

const MAX_BYTES = 5 * 1024 * 1024;

/**
 * Fetches an SBOM from the base application with the caller's own token. Only the configured host is
 * ever contacted: redirects are not followed, so a redirect elsewhere is an error, not a fetch.
 */
export async function fetchBaseSbom(config: Config, sbomId: string, bearer: string): Promise<Record<string, unknown>> {
  if (!config.BASE_VEXXY_URL) throw new Error("BASE_VEXXY_URL is not configured");
  const url = new URL(config.BASE_VEXXY_SBOM_PATH.replace("{sbom_id}", encodeURIComponent(sbomId)), config.BASE_VEXXY_URL + "/");
  if (url.origin !== new URL(config.BASE_VEXXY_URL).origin) throw new Error("BASE_VEXXY_SBOM_PATH must stay on BASE_VEXXY_URL's host");
  let res: Response;
  try {
    res = await fetch(url, { headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" }, redirect: "manual" });
  } catch (err) {
    throw new ApiError("EXTERNAL_SERVICE_ERROR", "Could not reach the base application to fetch the SBOM", { sbom_id: sbomId });
  }
  if (res.status === 404) throw new ApiError("VALIDATION_ERROR", "sbom_id is not known to the base application", { fields: [{ field: "sbom_id", message: "not found" }] });
  if (res.status >= 300 && res.status < 400) throw new ApiError("EXTERNAL_SERVICE_ERROR", "The base application redirected the SBOM request; redirects are not followed", { sbom_id: sbomId });
  if (!res.ok) throw new ApiError("EXTERNAL_SERVICE_ERROR", `The base application answered ${res.status} for the SBOM`, { sbom_id: sbomId });
  const text = await res.text();
  if (text.length > MAX_BYTES) throw new ApiError("EXTERNAL_SERVICE_ERROR", "The SBOM from the base application is too large", { max_bytes: MAX_BYTES });
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc === "object" && !Array.isArray(doc)) {
      // The base application may wrap the document, e.g. { sbom: {...} } or { document: {...} }.
      return (doc.sbom ?? doc.document ?? doc.content ?? doc) as Record<string, unknown>;
    }
  } catch {}
  throw new ApiError("EXTERNAL_SERVICE_ERROR", "The base application returned an SBOM that is not JSON", { sbom_id: sbomId });
}
