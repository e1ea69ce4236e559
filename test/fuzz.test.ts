/**
 * A fuzz run generated from /openapi.json (spec §12 hardening): at least 5,000 requests across every
 * route — the documented ones, plus the runner callbacks and billing pages the document leaves out —
 * valid and invalid, with and without authentication. Bodies come from the
 * document's own schemas (fast-check arbitraries built from them), then from mutations of those, then
 * from arbitrary JSON and bytes; some are correctly signed (Stripe, runner) so the handlers behind the
 * signature checks are reached too.
 *
 * Every answer: below 500 (a 502 only where the operation documents a dependency failure), one of the
 * statuses the document lists for that operation, the error envelope for every API error, and headers
 * within 5 s (a hang detector, not a benchmark).
 * FUZZ_SEED reproduces a run; FUZZ_RUNS changes its size.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, json } from "./support/http.js";
import { newOrg, submission } from "./support/orgs.js";
import { runnerCall } from "./support/runner.js";
import { TEST_SECRETS } from "./support/secrets.js";
import { deliver as deliverStripe } from "./stripe/support.js";
import { signHs256 } from "./support/tokens.js";

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  /** Documented responses (status codes): every answer must be one of them; empty for undocumented routes. */
  responses: string[];
  query: string[];
  headers: string[];
  body: Schema | null;
  /** false for HTML pages, which answer errors as pages, not the envelope. */
  api: boolean;
}

const RUNS = Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.FUZZ_RUNS ?? 5000);
const SEED = Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** Routes the public document leaves out on purpose (internal, pages); fuzzed all the same. */
const UNDOCUMENTED: Operation[] = [
  ...["progress", "complete", "fail"].map((p) => ({ method: "POST", path: `/internal/v1/jobs/{job_id}/${p}`, responses: [], query: [], headers: [], body: null, api: true })),
  { method: "GET", path: "/internal/v1/jobs/{job_id}/inputs/sbom", responses: [], query: [], headers: [], body: null, api: true },
  ...["", "/subscribe", "/credits", "/portal", "/success", "/cancel", "/login"].flatMap((p) => [
    { method: "GET", path: `/billing${p}`, responses: [], query: ["return_to", "next", "sign_in_token", "session_id"], headers: [], body: null, api: false },
    { method: "POST", path: `/billing${p}`, responses: [], query: [], headers: [], body: null, api: false },
  ]),
];

function operations(doc: Schema): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries<Schema>(doc.paths)) {
    for (const [method, op] of Object.entries<Schema>(methods)) {
      const params: Schema[] = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        responses: Object.keys(op.responses ?? {}),
        query: params.filter((p) => p.in === "query").map((p) => p.name),
        headers: params.filter((p) => p.in === "header").map((p) => p.name),
        body: op.requestBody?.content?.["application/json"]?.schema ?? null,
        api: true,
      });
    }
  }
  return ops;
}

/** A fast-check arbitrary for values of a JSON schema (OpenAPI 3.1 subset the document uses). */
function fromSchema(schema: Schema, doc: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return fromSchema(doc.components.schemas[schema.$ref.split("/").pop()], doc, depth);
  const options: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((s) => fromSchema(s, doc, depth + 1)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if ("const" in schema) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== "null") : schema.type;
  const nullable = Array.isArray(schema.type) && schema.type.includes("null");
  const base = ((): fc.Arbitrary<unknown> => {
    switch (type) {
      case "string":
        if (schema.format === "uuid") return fc.uuid();
        if (schema.format === "email") return fc.emailAddress();
        if (schema.format === "uri") return fc.webUrl();
        if (schema.pattern?.startsWith("^sha256")) return fc.constant(`sha256:${"ab".repeat(32)}`);
        return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 200) });
      case "integer":
        return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
      case "number":
        return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
      case "boolean":
        return fc.boolean();
      case "array":
        return depth > 4 ? fc.constant([]) : fc.array(fromSchema(schema.items ?? {}, doc, depth + 1), { maxLength: 4 });
      case "object": {
        if (depth > 4) return fc.constant({});
        const props: Record<string, Schema> = schema.properties ?? {};
        const required = new Set<string>(schema.required ?? []);
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, s] of Object.entries(props)) shape[k] = fromSchema(s, doc, depth + 1);
        if (!Object.keys(shape).length) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
        return fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  })();
  const withExample = schema.example !== undefined ? fc.oneof(fc.constant(schema.example), base) : base;
  return nullable ? fc.option(withExample, { nil: null }) : withExample;
}

/** Breaks a valid body: a required field dropped, a value of the wrong type, or an unknown field. */
const mutate = (body: unknown) =>
  fc.oneof(
    fc.constant(body),
    fc.jsonValue({ maxDepth: 2 }).map((v) => (body && typeof body === "object" && !Array.isArray(body) ? { ...body, [Object.keys(body)[0] ?? "x"]: v } : v)),
    fc.constant(body && typeof body === "object" && !Array.isArray(body) ? Object.fromEntries(Object.entries(body).slice(1)) : body),
    fc.constant(body && typeof body === "object" && !Array.isArray(body) ? { ...body, unexpected_field: 1 } : body),
  );

/** Bodies a real client sends, so generation reaches past validation into the handlers. */
const KNOWN_GOOD: Record<string, fc.Arbitrary<unknown>> = {
  "POST /api/v1/analysis/submit": fc.constant(null).map(() => submission()),
  "POST /api/v1/analysis/quote": fc.constant(null).map(() => submission()),
  "POST /api/v1/auth/register": fc.uuid().map((u) => ({ email: `fuzz-${u}@example.com`, password: "fuzz-password-123", name: "Fuzz", organization_name: "Fuzz Org" })),
  "POST /api/v1/auth/login": fc.constant({ email: "nobody@example.com", password: "fuzz-password-123" }),
  "PATCH /api/v1/organization/settings": fc.constantFrom({ default_vex_policy: "strict" }, { default_vex_policy: "standard" }),
  "POST /api/v1/payments/checkout": fc.constantFrom({ tier: "starter" }, { pack_id: "pack_1000" }, { tier: "enterprise" }),
};

const STRANGE = ["", "..%2F..%2Fetc%2Fpasswd", "%00", "x".repeat(600), "00000000-0000-0000-0000-000000000000", "null", "<script>", "' OR 1=1 --", "😀"];

describe("fuzzing every route from /openapi.json", () => {
  it(`answers ${RUNS} generated requests without a 5xx, always in the envelope, each within 5 s (seed in the test output)`, async () => {
    console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
    const doc = await json(await call("/openapi.json"));
    const ops = [...operations(doc), ...UNDOCUMENTED];
    const documented = new Set(operations(doc).map((o) => `${o.method} ${o.path}`));
    expect(documented.size).toBeGreaterThanOrEqual(20);

    // A few organizations and real jobs, so valid ids reach real handlers.
    const admin = await newOrg({ tier: "professional" });
    const member = await newOrg({ tier: "free", admin: false });
    const jobs: string[] = [];
    for (let i = 0; i < 3; i++) jobs.push((await json(await call("/api/v1/analysis/submit", { token: admin.token, body: submission() }))).job_id);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signHs256({ sub: crypto.randomUUID(), org_id: admin.orgId, email: "fuzz@example.com", is_admin: true, exp: now - 3600, iat: now - 7200 });
    const forged = await signHs256({ sub: crypto.randomUUID(), org_id: admin.orgId, email: "fuzz@example.com", is_admin: true, exp: now + 600, iat: now }, "forged-secret-0123456789abcdef0123456789abcd");

    const auth: fc.Arbitrary<Record<string, string>> = fc.oneof(
      { weight: 6, arbitrary: fc.constant({ Authorization: `Bearer ${admin.token}` }) },
      { weight: 2, arbitrary: fc.constant({ Authorization: `Bearer ${member.token}` }) },
      { weight: 2, arbitrary: fc.constant({ Authorization: `Bearer ${TEST_SECRETS.OPERATOR_TOKEN}` }) },
      {
        weight: 3,
        arbitrary: fc.constantFrom<Record<string, string>>(
          {},
          { Authorization: `Bearer ${expired}` },
          { Authorization: `Bearer ${forged}` },
          { Authorization: "Bearer not.a.jwt" },
          { Authorization: `Basic ${btoa("a:b")}` },
        ),
      },
    );
    const id = fc.oneof(fc.constantFrom(...jobs, admin.orgId, member.orgId), fc.uuid(), fc.constantFrom(...STRANGE), fc.string({ maxLength: 20 }));
    const request = fc.integer({ min: 0, max: ops.length - 1 }).chain((i) => {
      const op = ops[i]!;
      const known = KNOWN_GOOD[`${op.method} ${op.path}`];
      const generated = op.body ? fromSchema(op.body, doc).chain((b) => fc.oneof({ weight: 2, arbitrary: fc.constant(b) }, { weight: 2, arbitrary: mutate(b) })) : fc.constant(undefined);
      const body = known ? fc.oneof({ weight: 2, arbitrary: known.chain((b) => fc.oneof(fc.constant(b), mutate(b))) }, { weight: 3, arbitrary: generated }) : generated;
      return fc.record({
        op: fc.constant(op),
        pathIds: fc.tuple(id, id),
        query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...(op.query.length ? op.query : ["q"])), fc.string({ maxLength: 8 })), fc.oneof(fc.constantFrom(...STRANGE, "1", "-1", "1e9", "queued"), fc.string({ maxLength: 12 }))), { maxLength: 3 }),
        auth,
        body: fc.oneof(
          { weight: 6, arbitrary: body.map((b) => (b === undefined ? undefined : JSON.stringify(b))) },
          { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
          { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        contentType: fc.constantFrom("application/json", "application/json", "application/json", "text/plain", "application/x-www-form-urlencoded", undefined),
        signed: fc.integer({ min: 0, max: 3 }),
        idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 300 }))),
      });
    });

    const samples = fc.sample(request, { numRuns: RUNS, seed: SEED });
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (const [n, r] of samples.entries()) {
      let ids = [...r.pathIds];
      const path = r.op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(ids.shift() ?? "x")));
      const qs = r.query.length ? `?${new URLSearchParams(r.query.map(([k, v]) => [k, v])).toString()}` : "";
      const headers: Record<string, string> = { ...r.auth, "CF-Connecting-IP": `198.19.${n % 250}.${(n >> 8) % 250}` };
      if (r.contentType && r.body !== undefined) headers["Content-Type"] = r.contentType;
      if (r.idempotencyKey !== null && r.op.path.endsWith("/submit")) headers["Idempotency-Key"] = r.idempotencyKey;
      const started = Date.now();
      let res: Response;
      if (r.op.path === "/api/v1/webhooks/stripe" && r.signed === 0 && r.body !== undefined) {
        // Correctly signed: the body's shape is what is under test.
        let parsed: unknown = r.body;
        try {
          parsed = JSON.parse(r.body);
        } catch {}
        res = await deliverStripe(parsed, { arbitrary: true });
      } else if (r.op.path.startsWith("/internal/v1/jobs/") && r.signed === 0 && r.op.method === "POST") {
        let parsed: unknown = r.body ?? {};
        try {
          parsed = JSON.parse(r.body ?? "{}");
        } catch {}
        res = await runnerCall("POST", `${path}${qs}`, parsed);
      } else {
        const method = r.op.method;
        res = await (exports as unknown as { default: Fetcher }).default.fetch(`http://premium.test${path}${qs}`, {
          method,
          headers,
          ...(r.body !== undefined && method !== "GET" && method !== "HEAD" ? { body: r.body } : {}),
          redirect: "manual",
        });
      }
      const elapsed = Date.now() - started;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const what = `#${n} ${r.op.method} ${path}${qs} → ${res.status}`;
      if (elapsed > 5000) problems.push(`${what}: ${elapsed} ms`);
      const dependencyFailure = res.status === 502 && r.op.responses.includes("502");
      // A URL with an empty, "." or ".." path segment does not address the operation (its parameters are
      // required, and URL parsing resolves dot segments away).
      const addressed = !/\/\/|\/$|\/\.\.?(\/|$)/.test(path);
      const undocumented = addressed && r.op.responses.length > 0 && !r.op.responses.includes(String(res.status));
      if (undocumented) problems.push(`${what}: status not documented for ${r.op.method} ${r.op.path} (lists ${r.op.responses.join(", ")})`);
      if (res.status >= 500 && !dependencyFailure) problems.push(`${what}: ${(await res.text()).slice(0, 300)}`);
      else if (res.headers.get("Content-Type")?.startsWith("text/event-stream")) await res.body?.cancel();
      else if (res.status >= 400 && r.op.api) {
        const text = await res.text();
        let body: Record<string, unknown> | null = null;
        try {
          body = JSON.parse(text);
        } catch {}
        const ok = body && typeof body.error === "string" && typeof body.message === "string" && "details" in body && typeof body.timestamp === "string";
        if (!ok) problems.push(`${what}: not the envelope: ${text.slice(0, 200)}`);
      } else await res.body?.cancel();
    }
    console.log(`fuzz: ${samples.length} requests over ${ops.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(problems, problems.slice(0, 20).join("\n")).toEqual([]);
    // The run reached the handlers, not only the front door.
    expect([...statuses.keys()].filter((s) => s < 300).length).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
