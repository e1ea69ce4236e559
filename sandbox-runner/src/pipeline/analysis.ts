/**
 * The analysis the pipeline runs after the sandbox is gone: inventory + reachability, then VEX, and
 * the ZAP report summary. The pipeline receives these through its dependencies, so tests can run it
 * with the real engine (default-analysis.ts) or a substitute.
 */
import type { DispatchJob, SecurityFindings } from "@vexxy/contract";
import type { SandboxSpec } from "../drivers/types.js";
import type { ExecutableInfo } from "../reachability/types.js";
import type { RunHealth, RuntimeTrace } from "../trace/types.js";

/** The image's root filesystem as the inventory reader needs it (package DBs, paths, symlinks). */
export interface ImageFilesystem {
  /** Package databases and manifests: in-image path → text. */
  files: Map<string, string>;
  /** Every path in the image, when known (lets the engine say "component not present"). */
  paths?: Set<string>;
  symlinks?: Map<string, string>;
  /** What the kernel runs for each executable (ELF interpreter, #! line), when the files were read. */
  executables?: Map<string, ExecutableInfo>;
}

export type ImageFilesystemReader = (spec: SandboxSpec, signal: AbortSignal) => Promise<ImageFilesystem | null>;

export interface AnalysisContext {
  job: DispatchJob;
  spec: SandboxSpec;
  trace: RuntimeTrace;
  health: RunHealth;
  /** The job's stored inputs, null where the Worker has none. */
  inputs: { sbom: unknown | null; vulnerabilities: unknown | null };
  signal: AbortSignal;
}

export type ZapSummary = Omit<SecurityFindings, "status" | "reason">;

export interface AnalysisSteps {
  /**
   * Called as the sandbox starts: begins reading what computeReachability will need from the image,
   * so that work overlaps the run instead of following it. Optional; never throws.
   */
  prefetch?(spec: SandboxSpec): void;
  /** Returns the JSON-serialisable reachability report. */
  computeReachability(ctx: AnalysisContext): Promise<Record<string, unknown>>;
  /** Returns the OpenVEX v0.2.0 document for the report, or null when it would have no statements. */
  writeVex(report: Record<string, unknown>, ctx: AnalysisContext): Promise<Record<string, unknown> | null>;
  /** Summarises a raw ZAP traditional-json report; throws when it is unreadable. */
  parseZapReport(report: unknown): ZapSummary;
}
