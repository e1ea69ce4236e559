/**
 * Runner configuration, read from the environment and validated once at start. Everything else
 * receives the parsed `RunnerConfig` object; nothing reads process.env deep inside.
 */
import { parseAllowedRegistries } from "@vexxy/contract";
import { hostname } from "node:os";
import { z } from "zod";

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);
/** Seconds may be fractional so tests can run heartbeats and grace periods in milliseconds. */
const seconds = (def: number) => z.coerce.number().positive().default(def);
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));

const EnvSchema = z.object({
  RUNNER_PORT: z.coerce.number().int().min(0).max(65535).default(8002),
  RUNNER_HOST: z.string().min(1).default("127.0.0.1"),
  /**
   * This runner's identity: every sandbox it creates carries it, and its orphan sweep touches only
   * sandboxes that carry it, so runners sharing a host never remove each other's. Default: the
   * host name and port, stable across restarts.
   */
  RUNNER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: "RUNNER_ID must be 1-63 of A-Z a-z 0-9 _ . - (starting alphanumeric)" })
    .optional(),
  RUNNER_SECRET: z
    .string({ error: "RUNNER_SECRET is required (the HMAC secret shared with the Worker)" })
    .min(32, { error: "RUNNER_SECRET must be at least 32 characters" }),
  /** During a rotation: the previous HMAC secret, still accepted on the Worker's requests (never used to sign). */
  RUNNER_SECRET_PREVIOUS: z.string().min(32, { error: "RUNNER_SECRET_PREVIOUS must be at least 32 characters" }).optional(),
  WORKER_URL: z.url().default("http://127.0.0.1:8001"),
  RUNNER_MAX_CONCURRENT: int(2),
  /** Accepted jobs that may wait for a sandbox slot in the runner's local queue (0: refuse when full). */
  RUNNER_QUEUE_LIMIT: z.coerce.number().int().min(0).max(10_000).default(100),
  RUNNER_DRIVER: z.enum(["podman", "kubernetes"]).default("podman"),
  RUNNER_HEARTBEAT_SECONDS: seconds(15),
  RUNNER_SHUTDOWN_GRACE_SECONDS: seconds(30),
  RUNNER_HEALTH_TIMEOUT_SECONDS: seconds(120),
  RUNNER_MEMORY_MB: int(512, 16),
  RUNNER_CPUS: z.coerce.number().positive().max(64).default(1),
  RUNNER_PIDS: int(256, 8),
  VEX_AUTHOR: z.string().min(1).default("VEXxy Premium Analysis"),
  VEX_ROLE: optionalText,
  VEX_ID_BASE: z.url().default("https://vexxy.dev/vex"),
  RUNNER_ZAP_IMAGE: optionalText,
  /** Image the podman driver runs test scripts in (needs sh and curl). */
  RUNNER_PROBER_IMAGE: optionalText,
  /** Whether the podman driver builds a missing `localhost/` prober image at start (debootstrap, as test-images/build.sh). */
  RUNNER_BUILD_PROBER: bool(true),
  /** The Debian mirror that build fetches from (test-images/build.sh reads the same variable). */
  DEBIAN_MIRROR: z.url().default("http://deb.debian.org/debian"),
  /** Where downloaded .debs are cached between builds (shared with test-images/build.sh). */
  VEXXY_IMAGE_CACHE: z.string().startsWith("/", { error: "VEXXY_IMAGE_CACHE must be an absolute path" }).default("/var/cache/vexxy-test-images"),
  /** Comma-separated directories of OCI layouts/archives the podman driver loads pinned images from. */
  RUNNER_IMAGE_SOURCES: optionalText,
  /** Where the podman driver keeps each image's filesystem index (package databases, paths), one file per image ID; "off" keeps it in memory only. */
  RUNNER_INDEX_CACHE_DIR: z.string().regex(/^(\/|off$)/, { error: "RUNNER_INDEX_CACHE_DIR must be an absolute path or off" }).default("/var/cache/vexxy-runner/image-index"),
  /** Registries a pull may reach although the egress policy refuses them (host[:port], comma-separated). */
  RUNNER_ALLOWED_REGISTRIES: optionalText,
  K8S_SANDBOX_NAMESPACE: z.string().min(1).default("vexxy-sandbox"),
  K8S_IN_CLUSTER: bool(false),
});

export interface RunnerConfig {
  port: number;
  host: string;
  runnerId: string;
  secret: string;
  /** During a rotation: the previous secret, still accepted on the Worker's requests (never used to sign). */
  previousSecret?: string;
  workerUrl: string;
  maxConcurrent: number;
  queueLimit: number;
  driver: "podman" | "kubernetes";
  heartbeatSeconds: number;
  shutdownGraceSeconds: number;
  healthTimeoutSeconds: number;
  limits: { memoryBytes: number; cpus: number; pids: number };
  vex: { author: string; role?: string; idBase: string };
  zapImage?: string;
  proberImage?: string;
  /** How a missing prober image is built (absent: RUNNER_BUILD_PROBER=false, never built). */
  proberBuild?: { mirror: string; cacheDir: string };
  imageSources: string[];
  /** The image-index cache directory (null: memory only). */
  indexCacheDir: string | null;
  /** Normalized host:port keys (@vexxy/contract parseAllowedRegistries). */
  allowedRegistries: Set<string>;
  kubernetes: { namespace: string; inCluster: boolean };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid runner configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment; throws ConfigError naming every variable that is missing or wrong. */
export function loadConfig(env: Record<string, string | undefined> = process.env): RunnerConfig {
  // Empty strings count as unset, so `FOO=` in an env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`));
  }
  const e = parsed.data;
  let allowedRegistries: Set<string>;
  try {
    allowedRegistries = parseAllowedRegistries(e.RUNNER_ALLOWED_REGISTRIES);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  return {
    port: e.RUNNER_PORT,
    host: e.RUNNER_HOST,
    runnerId: e.RUNNER_ID ?? defaultRunnerId(e.RUNNER_PORT),
    secret: e.RUNNER_SECRET,
    ...(e.RUNNER_SECRET_PREVIOUS ? { previousSecret: e.RUNNER_SECRET_PREVIOUS } : {}),
    workerUrl: e.WORKER_URL.replace(/\/+$/, ""),
    maxConcurrent: e.RUNNER_MAX_CONCURRENT,
    queueLimit: e.RUNNER_QUEUE_LIMIT,
    driver: e.RUNNER_DRIVER,
    heartbeatSeconds: e.RUNNER_HEARTBEAT_SECONDS,
    shutdownGraceSeconds: e.RUNNER_SHUTDOWN_GRACE_SECONDS,
    healthTimeoutSeconds: e.RUNNER_HEALTH_TIMEOUT_SECONDS,
    limits: { memoryBytes: e.RUNNER_MEMORY_MB * 1024 * 1024, cpus: e.RUNNER_CPUS, pids: e.RUNNER_PIDS },
    vex: { author: e.VEX_AUTHOR, ...(e.VEX_ROLE ? { role: e.VEX_ROLE } : {}), idBase: e.VEX_ID_BASE },
    ...(e.RUNNER_ZAP_IMAGE ? { zapImage: e.RUNNER_ZAP_IMAGE } : {}),
    ...(e.RUNNER_PROBER_IMAGE ? { proberImage: e.RUNNER_PROBER_IMAGE } : {}),
    ...(e.RUNNER_BUILD_PROBER ? { proberBuild: { mirror: e.DEBIAN_MIRROR, cacheDir: `${e.VEXXY_IMAGE_CACHE.replace(/\/+$/, "")}/debs` } } : {}),
    imageSources: (e.RUNNER_IMAGE_SOURCES ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    indexCacheDir: e.RUNNER_INDEX_CACHE_DIR === "off" ? null : e.RUNNER_INDEX_CACHE_DIR,
    allowedRegistries,
    kubernetes: { namespace: e.K8S_SANDBOX_NAMESPACE, inCluster: e.K8S_IN_CLUSTER },
  };
}

/** host name + port, as a label value (e.g. "build-7-8002"). */
function defaultRunnerId(port: number): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 50) || "runner";
  return `${host}-${port}`;
}
