/**
 * Checks what the fake Stripe API serves and receives against Stripe's published OpenAPI spec, as vendored
 * in test/fixtures/stripe-openapi (scripts/stripe-openapi/refresh.mjs; SOURCE.json names the commit).
 *
 * The spec is OpenAPI 3.0; ajv validates JSON Schema. The conversion, applied once when compiling:
 * - `nullable: true` becomes `anyOf: [<the schema>, { type: "null" }]`;
 * - Stripe's `x-*` extensions (`x-expandableFields`, `x-expansionResources`, `x-resourceId`, …) only annotate
 *   (the expandable alternatives are already in the `anyOf` beside them): they are dropped;
 * - formats Stripe invents (`unix-time`, `decimal`) are annotations too;
 * - request bodies and query strings: every object that lists its properties gets `additionalProperties: false`
 *   unless it says otherwise (Stripe refuses an unknown parameter with `parameter_unknown`), and form values,
 *   which arrive as strings, are coerced to the documented scalar type before they are checked.
 * An expandable field is `anyOf: [id string, object]` in the spec, so an id and an expanded object both pass.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import vendored from "../../fixtures/stripe-openapi/stripe-openapi.json" with { type: "json" };
import type { FormValue } from "./form.js";

type Schema = Record<string, unknown>;
interface Operation {
  query: Record<string, { schema: Schema }>;
  body: Schema | null;
  response: Schema | null;
}
const spec = vendored as unknown as { operations: Record<string, Operation>; components: { schemas: Record<string, Schema> } };

/** Which object an event's `data.object` is, by the event type's prefix. */
const EVENT_OBJECTS: [RegExp, string][] = [
  [/^checkout\.session\./, "checkout.session"],
  [/^customer\.subscription\./, "subscription"],
  [/^invoice\./, "invoice"],
  [/^payment_intent\./, "payment_intent"],
  [/^charge\.(?!dispute|refund)/, "charge"],
  [/^charge\.dispute\./, "dispute"],
  [/^customer\.(created|updated|deleted)$/, "customer"],
  [/^price\./, "price"],
  [/^subscription_schedule\./, "subscription_schedule"],
];

function convert(node: unknown, forRequest: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, forRequest));
  if (!node || typeof node !== "object") return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "nullable" || k.startsWith("x-")) continue;
    if (k === "$ref" && typeof v === "string") out.$ref = v.replace("#/components/schemas/", "stripe#/$defs/");
    else if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, convert(s, forRequest)]));
    else out[k] = convert(v, forRequest);
  }
  if (forRequest && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return (node as Schema).nullable ? { anyOf: [out, { type: "null" }] } : out;
}

function newAjv(forRequest: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true, coerceTypes: forRequest, validateFormats: true });
  ajv.addFormat("unix-time", true).addFormat("decimal", true);
  ajv.addSchema({ $id: "stripe", $defs: convert(spec.components.schemas, forRequest) as Schema });
  return ajv;
}

let responses: Ajv | undefined;
let requests: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(kind: "response" | "request", key: string, schema: () => unknown): ValidateFunction {
  const id = `${kind} ${key}`;
  let fn = compiled.get(id);
  if (!fn) {
    const ajv = kind === "request" ? (requests ??= newAjv(true)) : (responses ??= newAjv(false));
    fn = ajv.compile(convert(schema(), kind === "request") as Schema);
    compiled.set(id, fn);
  }
  return fn;
}

/** `/line_items/0/price` → `line_items[0][price]`, as Stripe names a form parameter. */
const paramName = (pointer: string) =>
  pointer
    .split("/")
    .filter(Boolean)
    .map((s, i) => (i === 0 ? s : `[${s}]`))
    .join("");

function describe(errors: ErrorObject[] | null | undefined, where: (path: string) => string): string[] {
  const out = new Set<string>();
  for (const e of errors ?? []) {
    // anyOf reports every failed branch and then itself; the branches say more.
    if (e.keyword === "anyOf") continue;
    const path = e.instancePath + (e.keyword === "additionalProperties" ? `/${(e.params as { additionalProperty: string }).additionalProperty}` : "");
    if (e.keyword === "additionalProperties") out.add(`${where(path)}: unknown parameter`);
    else if (e.keyword === "required") out.add(`${where(`${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`)}: required, absent`);
    else out.add(`${where(path)}: ${e.message}${e.keyword === "enum" ? ` (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})` : ""}`);
  }
  return [...out].slice(0, 20);
}

/** The vendored operation a fake request is for ("POST /v1/checkout/sessions/{session}"), or null. */
export function operationFor(method: string, path: string): string | null {
  for (const key of Object.keys(spec.operations)) {
    const [m, template] = key.split(" ");
    if (m !== method) continue;
    const re = new RegExp(`^${template!.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (re.test(path)) return key;
  }
  return null;
}

/** Problems with a request's query and form body for a vendored operation (empty when it is as the spec says). */
export function checkRequest(operation: string, query: Record<string, FormValue>, body: Record<string, FormValue>): string[] {
  const op = spec.operations[operation]!;
  const querySchema = { type: "object", properties: Object.fromEntries(Object.entries(op.query).map(([k, v]) => [k, v.schema])) };
  const problems: string[] = [];
  const queryFn = validator("request", `${operation} query`, () => querySchema);
  if (!queryFn(structuredClone(query))) problems.push(...describe(queryFn.errors, paramName));
  const bodySchema = op.body ?? { type: "object", properties: {} };
  const fn = validator("request", `${operation} body`, () => bodySchema);
  if (!fn(structuredClone(body))) problems.push(...describe(fn.errors, paramName));
  return problems;
}

/** Problems with a 200 response body of a vendored operation. */
export function checkResponse(operation: string, body: unknown): string[] {
  const op = spec.operations[operation]!;
  if (!op.response) return [];
  const fn = validator("response", operation, () => op.response);
  return fn(body) ? [] : describe(fn.errors, (p) => p || "(body)");
}

/** Problems with an object against the spec's schema for it ("subscription", "checkout.session", …). */
function checkObject(name: string, value: unknown): string[] {
  const fn = validator("response", `object ${name}`, () => ({ $ref: `#/components/schemas/${name}` }));
  return fn(value) ? [] : describe(fn.errors, (p) => `${name}${p}`);
}

/** Problems with an event as Stripe sends it to a webhook endpoint: the envelope, and `data.object` for known types. */
export function checkEvent(event: unknown): string[] {
  const problems = checkObject("event", event);
  const type = (event as { type?: unknown } | null)?.type;
  const object = EVENT_OBJECTS.find(([re]) => typeof type === "string" && re.test(type))?.[1];
  if (object) problems.push(...checkObject(object, (event as { data?: { object?: unknown } }).data?.object).map((p) => `data.object: ${p}`));
  return problems;
}


/**
 * Compiles every validator up front. Compiling one lazily costs seconds on a loaded machine, and it
 * would land inside whichever test request first reaches that operation (the fuzz test's 5 s hang
 * detector caught one); the fake calls this once when it is created.
 */
export function compileAll(): void {
  for (const operation of Object.keys(spec.operations)) {
    checkRequest(operation, {}, {});
    checkResponse(operation, {});
  }
  checkObject("event", {});
  for (const [, object] of EVENT_OBJECTS) checkObject(object, {});
}
