/**
 * The reachability engine's public surface. Pure: data in, data out; callers do the I/O.
 * See docs/reachability.md for the decision rules and the input formats.
 */
import { analyzeReachability as analyze, type AnalyzeInput } from "./analyze.js";
import type { ReachabilityReport } from "./types.js";

export { InputFormatError } from "./errors.js";
export { loadInventory } from "./sbom/load.js";
export { inventoryFromImageFiles } from "./image/index.js";
export { mergeInventories } from "./merge.js";
export { loadVulnerabilities } from "./vulns/load.js";
export { parsePurl } from "./purl.js";;
export type { AnalyzeInput } from "./analyze.js";
export type * from "./types.js";

/** One decision per (vulnerability, package), with the runtime evidence behind it. */
export function analyzeReachability(input: AnalyzeInput): ReachabilityReport {
  return analyze(input);
}
