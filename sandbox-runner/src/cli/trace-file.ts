/**
 * Validates a RuntimeTrace JSON file (the format in ../trace/types.ts) before the engine trusts it:
 * a trace with missing arrays or flags would otherwise read as "nothing happened".
 */
import { z } from "zod";
import { InputFormatError } from "../reachability/errors.js";
import type { RuntimeTrace } from "../trace/types.js";

const pid = z.number().int();
const RuntimeTraceSchema = z.object({
  source: z.enum(["strace", "kubescape", "synthetic"]),
  from_first_exec: z.boolean(),
  complete: z.boolean(),
  duration_ms: z.number().min(0),
  execs: z.array(z.object({ pid, path: z.string(), argv: z.array(z.string()), ok: z.boolean() })),
  opens: z.array(z.object({ pid, path: z.string(), flags: z.string(), ok: z.boolean(), errno: z.string().optional() })),
  mmaps: z.array(z.object({ pid, path: z.string(), exec: z.boolean() })),
  connections: z.array(
    z.object({
      pid,
      syscall: z.enum(["connect", "accept", "bind", "listen"]),
      family: z.enum(["inet", "inet6", "unix", "other"]),
      address: z.string(),
      port: z.number().int().optional(),
      ok: z.boolean(),
    }),
  ),
  syscall_counts: z.record(z.string(), z.number()),
  collapsed_paths: z.array(z.string()).optional(),
});

export function parseRuntimeTrace(doc: unknown): RuntimeTrace {
  const r = RuntimeTraceSchema.safeParse(doc);
  if (!r.success) {
    const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InputFormatError(`not a RuntimeTrace JSON (see src/trace/types.ts): ${first.join("; ")}`);
  }
  return r.data as RuntimeTrace;
}
