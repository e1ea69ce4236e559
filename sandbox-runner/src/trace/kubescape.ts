/**
 * Kubescape ContainerProfile / ApplicationProfile (spdx.softwarecomposition.kubescape.io) →
 * RuntimeTrace. What such a profile can and cannot say, decided conservatively:
 *
 * - `spec.opens` are de-duplicated paths with flags and no result: each becomes one successful
 *   open. There are no memory mappings, so a shared library shows up as opened, never mapped.
 * - `spec.execs` are de-duplicated { path, args } with no result: each becomes one successful exec.
 * - `spec.syscalls` is a set of names; counts are unknown, so each present syscall counts 1.
 * - Paths Kubescape collapsed (`⋯`, `*`) name no single file: they are kept as `collapsed_paths`,
 *   and every package with a file such a pattern matches counts as possibly used (no absence claim).
 * - `from_first_exec` only when `kubescape.io/completion` is "complete" (the agent watched the
 *   container from its start; "partial" means it attached to a running container).
 * - `complete` only when, in addition, `kubescape.io/status` is "completed" (the learning period
 *   ended normally). A profile still learning ("ready", "learning") or cut short ("too-large",
 *   "incomplete") is partial evidence, and the engine will not claim not_affected from it.
 */
import type { ExecEvent, OpenEvent, RuntimeTrace } from "./types.js";

export class KubescapeProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubescapeProfileError";
  }
}

export interface KubescapeTrace {
  trace: RuntimeTrace;
  /** What the profile could not express, for the report. */
  notes: string[];
}

const COLLAPSED = /[⋯*]/;

export function readKubescapeProfile(doc: unknown): KubescapeTrace {
  if (!isRecord(doc) || !isRecord(doc.spec)) throw new KubescapeProfileError("not a Kubescape profile (no spec)");
  const kind = typeof doc.kind === "string" ? doc.kind : "";
  const spec = doc.spec;
  // An ApplicationProfile holds one entry per container under spec.containers/initContainers.
  const containers: Record<string, unknown>[] =
    kind === "ApplicationProfile" || Array.isArray(spec.containers)
      ? [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)].filter(isRecord)
      : [spec];
  if (containers.length === 0) throw new KubescapeProfileError("Kubescape profile has no containers");
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const ann = isRecord(meta.annotations) ? meta.annotations : {};
  const completion = typeof ann["kubescape.io/completion"] === "string" ? ann["kubescape.io/completion"] : "";
  const status = typeof ann["kubescape.io/status"] === "string" ? ann["kubescape.io/status"] : "";

  const notes: string[] = [];
  const execs: ExecEvent[] = [];
  const opens: OpenEvent[] = [];
  const syscalls: Record<string, number> = {};
  const collapsed = new Set<string>();
  for (const c of containers) {
    for (const e of arr(c.execs)) {
      if (!isRecord(e) || typeof e.path !== "string") continue;
      if (COLLAPSED.test(e.path)) {
        collapsed.add(e.path);
        continue;
      }
      const argv = arr(e.args).filter((a): a is string => typeof a === "string");
      execs.push({ pid: 0, path: e.path, argv, ok: true });
    }
    for (const o of arr(c.opens)) {
      if (!isRecord(o) || typeof o.path !== "string") continue;
      if (COLLAPSED.test(o.path)) {
        collapsed.add(o.path);
        continue;
      }
      const flags = arr(o.flags).filter((f): f is string => typeof f === "string");
      opens.push({ pid: 0, path: o.path, flags: flags.join("|"), ok: true });
    }
    for (const s of arr(c.syscalls)) if (typeof s === "string") syscalls[s] = 1;
  }
  const fromFirstExec = completion === "complete";
  const complete = fromFirstExec && status === "completed";
  notes.push("Kubescape profiles record no memory mappings: libraries appear as opened files, not as mapped code.");
  if (!fromFirstExec) notes.push(`Profile completion is "${completion || "unset"}": the agent did not watch the container from its start.`);
  if (!complete) notes.push(`Profile status is "${status || "unset"}", not "completed": the recording may not cover the whole run.`);
  if (collapsed.size > 0) {
    notes.push(`${collapsed.size} collapsed (wildcard) paths name no single file: packages with files they match get no absence claim.`);
  }
  return {
    trace: {
      source: "kubescape",
      from_first_exec: fromFirstExec,
      complete,
      duration_ms: 0,
      execs,
      opens,
      mmaps: [],
      connections: [],
      syscall_counts: syscalls,
      ...(collapsed.size > 0 ? { collapsed_paths: [...collapsed] } : {}),
    },
    notes,
  };
}

export function traceFromKubescapeProfile(doc: unknown): RuntimeTrace {
  return readKubescapeProfile(doc).trace;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
