/**
 * The contract between the Worker and sandbox-runner: dispatch payloads, callback payloads and the
 * request signature both sides use. Imported by the Worker (src/) and by sandbox-runner, so the two
 * cannot drift. Pure: zod + WebCrypto only (available in workerd and Node 22).
 */
import { z } from "zod";

export const JOB_PHASES = [
  "pulling_image",
  "starting_sandbox",
  "waiting_for_health",
  "running_test_script",
  "security_scan",
  "collecting_evidence",
  "computing_reachability",
  "writing_vex",
] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/**
 * Not a pipeline phase: the runner accepted the job and holds it in its local queue until a sandbox
 * slot frees. Reported (and repeated as a heartbeat) so the job's lease stays alive; it stays "queued".
 */
export const WAITING_PHASE = "waiting_for_slot" as const;
/**
 * Not a pipeline phase either: the runner accepted a job with a test script while it is still
 * preparing the image that runs test scripts (the prober). Like waiting_for_slot it is a heartbeat
 * that keeps the lease alive, and the job stays "queued".
 */
export const PROBER_WAIT_PHASE = "waiting_for_prober_image" as const;
/** The phases in which a job is held by the runner before its run begins (status stays "queued"). */
export const HOLDING_PHASES: readonly string[] = [WAITING_PHASE, PROBER_WAIT_PHASE];
export const PROGRESS_PHASES = [WAITING_PHASE, PROBER_WAIT_PHASE, ...JOB_PHASES] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

/** Human-readable phase labels, as the spec's `current_phase` shows them. */
export const PHASE_LABELS: Record<ProgressPhase, string> = {
  waiting_for_slot: "Waiting for a free sandbox slot",
  waiting_for_prober_image: "Waiting for the runner to prepare its test-script image",
  pulling_image: "Pulling image by digest",
  starting_sandbox: "Starting isolated sandbox",
  waiting_for_health: "Waiting for the application to become healthy",
  running_test_script: "Running test script",
  security_scan: "Running OWASP ZAP security scan",
  collecting_evidence: "Collecting runtime evidence",
  computing_reachability: "Computing reachability",
  writing_vex: "Writing VEX document",
};

const sha256Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/);

const JobConfigSchema = z.object({
  test_script: z.string().max(16_384).nullable(),
  test_timeout: z.number().int().min(60).max(3600),
  enable_fuzzing: z.boolean(),
  enable_profiling: z.boolean(),
  enable_code_coverage: z.boolean(),
  /** "strict": the VEX says not_affected only at high confidence. Absent on jobs stored before it existed. */
  vex_policy: z.enum(["standard", "strict"]).optional(),
  ports: z.array(z.number().int().min(1).max(65535)).max(16),
  environment: z.record(z.string(), z.string()),
});
export type JobConfig = z.infer<typeof JobConfigSchema>;

/** What the Worker sends to POST /v1/jobs on the runner. */
export const DispatchJobSchema = z.object({
  job_id: z.string().uuid(),
  organization_id: z.string().uuid(),
  image_ref: z.string().min(1).max(512),
  image_digest: sha256Digest,
  config: JobConfigSchema,
  /** Whether the organization's tier unlocks runtime verdicts (`reachability_analysis`). */
  reachability_verdicts: z.boolean(),
  /** Tier name that unlocks runtime verdicts, quoted in results when `reachability_verdicts` is false. */
  verdicts_tier: z.string(),
  /** Inputs stored by the Worker; fetched by the runner from GET /internal/v1/jobs/{id}/inputs/{kind}. */
  inputs: z.object({ sbom: z.boolean(), vulnerabilities: z.boolean() }),
  /** Seconds without a heartbeat after which the Worker fails the job. */
  lease_seconds: z.number().int().positive(),
  attempt: z.number().int().min(1),
});
export type DispatchJob = z.infer<typeof DispatchJobSchema>;

/**
 * POST /v1/job-batches: several dispatches in one signed request (the queue consumer sends each
 * queue batch this way). The runner answers 200 with one result per job, in order; each job is
 * handled exactly as POST /v1/jobs would handle it alone.
 */
const DISPATCH_BATCH_MAX = 100;
export const DispatchBatchSchema = z.object({ jobs: z.array(DispatchJobSchema).min(1).max(DISPATCH_BATCH_MAX) });
const DISPATCH_OUTCOMES = ["accepted", "duplicate", "busy", "shutting_down", "conflict", "finished"] as const;
export const DispatchBatchResultSchema = z.object({
  results: z.array(z.object({ job_id: z.string(), outcome: z.enum(DISPATCH_OUTCOMES), message: z.string().optional() })),
  /** Seconds the Worker should wait before retrying the jobs answered busy / shutting_down. */
  retry_after_seconds: z.number().int().positive(),
});
export type DispatchBatchResult = z.infer<typeof DispatchBatchResultSchema>;

/** POST /internal/v1/jobs/{id}/progress — also the heartbeat. */
export const ProgressCallbackSchema = z.object({
  phase: z.enum(PROGRESS_PHASES),
  progress_percent: z.number().int().min(0).max(100),
  message: z.string().max(1000).optional(),
  /** When the sandbox started running the image (first report that has it wins). */
  sandbox_started_at: z.string().datetime().optional(),
});
export type ProgressCallback = z.infer<typeof ProgressCallbackSchema>;

export const SecurityFindingsSchema = z.object({
  status: z.enum(["completed", "skipped", "failed"]),
  reason: z.string().optional(),
  total_alerts: z.number().int().min(0),
  high_risk: z.number().int().min(0),
  medium_risk: z.number().int().min(0),
  low_risk: z.number().int().min(0),
  informational: z.number().int().min(0),
  alerts: z.array(z.record(z.string(), z.unknown())),
});
export type SecurityFindings = z.infer<typeof SecurityFindingsSchema>;

/** Which chargeable features actually ran (settlement bills only these). */
const FeaturesRanSchema = z.object({
  fuzzing: z.boolean(),
  profiling: z.boolean(),
  code_coverage: z.boolean(),
});

/** POST /internal/v1/jobs/{id}/complete */
export const CompleteCallbackSchema = z.object({
  /** OpenVEX v0.2.0; null when no vulnerability matched (the schema requires at least one statement). */
  vex_document: z.record(z.string(), z.unknown()).nullable(),
  execution_profile: z.record(z.string(), z.unknown()),
  reachability_results: z.record(z.string(), z.unknown()),
  security_findings: SecurityFindingsSchema,
  features_ran: FeaturesRanSchema,
  /** Wall-clock seconds the sandbox ran the image (queue and pull time excluded). */
  sandbox_seconds: z.number().min(0),
});
export type CompleteCallback = z.infer<typeof CompleteCallbackSchema>;

const FAILURE_CODES = [
  "image_unavailable",
  "digest_mismatch",
  "sandbox_start_failed",
  /** The runner's host lacks something analyses need (podman, strace, the prober image): the message names it and its fix. */
  "sandbox_unavailable",
  "unhealthy",
  "timeout",
  "oom_killed",
  "cancelled",
  "runner_shutdown",
  "internal",
] as const;

/** POST /internal/v1/jobs/{id}/fail */
export const FailCallbackSchema = z.object({
  error_code: z.enum(FAILURE_CODES),
  error_message: z.string().min(1).max(2000),
  /** "service": our fault, never billed. "workload": the image's or script's fault. */
  fault: z.enum(["service", "workload"]),
  /** Whether the sandbox ran the image at all (a job that fails before that costs nothing). */
  sandbox_ran: z.boolean(),
  sandbox_seconds: z.number().min(0),
});
export type FailCallback = z.infer<typeof FailCallbackSchema>;

// ---------------------------------------------------------------------------------------------
// Request signing: HMAC-SHA256 over method, path, timestamp, nonce and the body's SHA-256.
// ---------------------------------------------------------------------------------------------

export const SIGNATURE_HEADER = "x-vexxy-signature";
export const TIMESTAMP_HEADER = "x-vexxy-timestamp";
export const NONCE_HEADER = "x-vexxy-nonce";
/**
 * The body's SHA-256 (hex), which the signature covers. Sent so a receiver can authenticate a request
 * from its headers alone, before it reads a byte of the body, then check the body against it.
 */
export const CONTENT_HASH_HEADER = "x-vexxy-content-sha256";
/** Requests whose timestamp is further than this from the receiver's clock are refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const enc = new TextEncoder();

function toHex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
}

export async function bodySha256(body: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", enc.encode(body)));
}

function canonicalRequest(method: string, path: string, timestamp: string, nonce: string, bodyHash: string): string {
  return [method.toUpperCase(), path, timestamp, nonce, bodyHash].join("\n");
}

/** Headers that authenticate a request to the other side. `path` includes the query string, if any. */
export async function signRequest(
  secret: string,
  method: string,
  path: string,
  body: string,
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now / 1000));
  const nonce = crypto.randomUUID();
  const hash = await bodySha256(body);
  const sig = await hmacHex(secret, canonicalRequest(method, path, timestamp, nonce, hash));
  return { [TIMESTAMP_HEADER]: timestamp, [NONCE_HEADER]: nonce, [CONTENT_HASH_HEADER]: hash, [SIGNATURE_HEADER]: `v1=${sig}` };
}

export type SignatureCheck = { ok: true; nonce: string; timestamp: number } | { ok: false; reason: string };

/**
 * Verifies a signed request. Replay protection beyond the time window is the caller's job: it must
 * remember `nonce` for SIGNATURE_TOLERANCE_SECONDS and refuse a nonce it has seen.
 */
export async function verifyRequest(
  secret: string | readonly string[],
  method: string,
  path: string,
  body: string,
  headers: { get(name: string): string | null },
  now: number = Date.now(),
): Promise<SignatureCheck> {
  return verifySigned(secret, method, path, await bodySha256(body), headers, now);
}

/**
 * Verifies a signed request from its headers alone, against the body hash it declares
 * (CONTENT_HASH_HEADER): nothing unauthenticated has to be read. The caller must then check that the
 * body it reads hashes to `bodySha256`.
 */
export async function verifyRequestHead(
  secret: string | readonly string[],
  method: string,
  path: string,
  headers: { get(name: string): string | null },
  now: number = Date.now(),
): Promise<SignatureCheck & { bodySha256?: string }> {
  const hash = headers.get(CONTENT_HASH_HEADER);
  if (!hash || !/^[a-f0-9]{64}$/.test(hash)) return { ok: false, reason: "missing or malformed content hash" };
  const check = await verifySigned(secret, method, path, hash, headers, now);
  return check.ok ? { ...check, bodySha256: hash } : check;
}

async function verifySigned(
  secret: string | readonly string[],
  method: string,
  path: string,
  bodyHash: string,
  headers: { get(name: string): string | null },
  now: number,
): Promise<SignatureCheck> {
  const ts = headers.get(TIMESTAMP_HEADER);
  const nonce = headers.get(NONCE_HEADER);
  const sig = headers.get(SIGNATURE_HEADER);
  if (!ts || !nonce || !sig) return { ok: false, reason: "missing signature headers" };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: "malformed timestamp" };
  if (!/^[A-Za-z0-9-]{8,64}$/.test(nonce)) return { ok: false, reason: "malformed nonce" };
  const timestamp = Number(ts);
  if (Math.abs(now / 1000 - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: "stale timestamp" };
  const m = /^v1=([a-f0-9]{64})$/.exec(sig);
  if (!m) return { ok: false, reason: "malformed signature" };
  // Any of the secrets: the current one, and during a rotation the previous one.
  const canonical = canonicalRequest(method, path, ts, nonce, bodyHash);
  let matched = false;
  for (const key of typeof secret === "string" ? [secret] : secret) {
    if (timingSafeEqualHex(await hmacHex(key, canonical), m[1]!)) matched = true;
  }
  if (!matched) return { ok: false, reason: "bad signature" };
  return { ok: true, nonce, timestamp };
}

function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
export * from "./egress.js";
