/**
 * The production analysis: inventory from the job's SBOM merged with the image's own package
 * databases, vulnerabilities from the job's report, the reachability engine, then OpenVEX. Wired by
 * main.ts; pipeline tests may use it or a substitute (see AnalysisSteps).
 */
import { parseZapReport } from "../findings/zap.js";
import {
  analyzeReachability,
  inventoryFromImageFiles,
  loadInventory,
  loadVulnerabilities,
  mergeInventories,
  type ReachabilityReport,
} from "../reachability/index.js";
import { buildOpenVex } from "../vex/openvex.js";
import type { AnalysisSteps, ImageFilesystem, ImageFilesystemReader } from "./analysis.js";
import type { SandboxSpec } from "../drivers/types.js";
import { errorMessage, type Logger } from "./log.js";

export interface DefaultAnalysisOptions {
  vex: { author: string; role?: string; idBase: string };
  /** Reads the image's filesystem (package DBs, path list, symlinks); absent for drivers without one. */
  readImageFilesystem?: ImageFilesystemReader;
  /** Starts reading the image's filesystem into the reader's cache while the sandbox runs. */
  prefetchImageFilesystem?: (spec: SandboxSpec) => void;
  logger: Logger;
}


export function createDefaultAnalysis(o: DefaultAnalysisOptions): AnalysisSteps {
  return {
    prefetch(spec) {
      o.prefetchImageFilesystem?.(spec);
    },
    async computeReachability(ctx) {
      const notes: string[] = [];
      let fs: ImageFilesystem | null = null;
      if (o.readImageFilesystem) {
        try {
          fs = await o.readImageFilesystem(ctx.spec, ctx.signal);
        } catch (err) {
          // The SBOM alone still gives an inventory; the report says what was missing.
          ctx.signal.throwIfAborted();
          notes.push(`the image's own package databases could not be read: ${errorMessage(err)}`);
          o.logger.warn("image filesystem read failed", { job_id: ctx.job.job_id, error: errorMessage(err) });
        }
      }
      const inventories = [];
      if (ctx.inputs.sbom !== null) inventories.push(loadInventory(ctx.inputs.sbom));
      if (fs) inventories.push(inventoryFromImageFiles(fs.files));
      const inventory = mergeInventories(...inventories);

      const vulnerabilities =
        ctx.inputs.vulnerabilities !== null
          ? loadVulnerabilities(ctx.inputs.vulnerabilities)
          : hasCycloneDxVulnerabilities(ctx.inputs.sbom)
            ? loadVulnerabilities(ctx.inputs.sbom)
            : [];
      if (ctx.inputs.vulnerabilities === null && vulnerabilities.length === 0) {
        notes.push("no vulnerability report was supplied with the job; the VEX document has no statements");
      }

      const report = analyzeReachability({
        inventory,
        vulnerabilities,
        trace: ctx.trace,
        health: ctx.health,
        ...(fs?.paths ? { imagePaths: fs.paths } : {}),
        ...(fs?.symlinks ? { symlinks: fs.symlinks } : {}),
        ...(fs?.executables ? { executables: fs.executables } : {}),
        verdicts: { enabled: ctx.job.reachability_verdicts, unlockTier: ctx.job.verdicts_tier },
        policy: ctx.job.config.vex_policy ?? "standard",
      });
      if (report.decisions.length === 0) {
        notes.push("no vulnerability matched a package of the image, so no VEX document is issued (OpenVEX 0.2.0 requires at least one statement)");
      }
      if (notes.length) report.notes.push(...notes);
      return report as unknown as Record<string, unknown>;
    },

    async writeVex(report, ctx) {
      if ((report as unknown as ReachabilityReport).decisions.length === 0) return null;
      const doc = buildOpenVex(report as unknown as ReachabilityReport, {
        imageRef: ctx.job.image_ref,
        imageDigest: ctx.job.image_digest,
        author: o.vex.author,
        ...(o.vex.role ? { role: o.vex.role } : {}),
        idBase: o.vex.idBase,
        documentId: ctx.job.job_id,
      });
      return doc as unknown as Record<string, unknown>;
    },

    parseZapReport(report) {
      const s = parseZapReport(report);
      return {
        total_alerts: s.total_alerts,
        high_risk: s.high_risk,
        medium_risk: s.medium_risk,
        low_risk: s.low_risk,
        informational: s.informational,
        alerts: s.alerts.map((a) => ({ ...a })),
      };
    },
  };
}

function hasCycloneDxVulnerabilities(doc: unknown): boolean {
  if (typeof doc !== "object" || doc === null) return false;
  const d = doc as Record<string, unknown>;
  return d.bomFormat === "CycloneDX" && Array.isArray(d.vulnerabilities) && d.vulnerabilities.length > 0;
}
