#!/usr/bin/env node
/**
 * Refreshes test/fixtures/stripe-openapi/ — the part of Stripe's published OpenAPI spec (stripe/openapi,
 * openapi/spec3.json) that the fake Stripe API (test/support/fake-stripe) is checked against.
 *
 *   node scripts/stripe-openapi/refresh.mjs --spec <spec3.json|spec3.yaml> --commit <sha> --committed-at <date>
 *   node scripts/stripe-openapi/refresh.mjs --ref <git ref>        (downloads the spec; needs the internet)
 *
 * Kept: the objects the service touches (OBJECTS) and, for each endpoint it calls (OPERATIONS), the query
 * parameters, the form-encoded request body and the 200 response — with every component they reference,
 * transitively; anything unreachable is pruned, and so are `description`s (most of the spec's bytes).
 *
 * When the spec's info.version is not the API version the installed `stripe` SDK pins, the SDK's generated
 * types for that version (node_modules/stripe/esm/resources) are the only record of the pinned shapes here:
 * the script then reconciles the top-level properties of the mapped objects with them (SDK_OBJECTS) and
 * applies the request-parameter changes listed in version-overlay.json, and names every change in the
 * fixture. With a spec of the pinned version no change is made.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const OUT_DIR = join(ROOT, "test", "fixtures", "stripe-openapi");
const SDK_RESOURCES = join(ROOT, "node_modules", "stripe", "esm", "resources");

/** Objects the service reads or the fake returns (component names in the spec). */
const OBJECTS = [
  "event",
  "checkout.session",
  "subscription",
  "subscription_item",
  "subscription_schedule",
  "invoice",
  "customer",
  "payment_intent",
  "charge",
  "billing_portal.session",
  "price",
];

/** Endpoints the service (src/services/stripe) and the tests' SDK client call on the fake. */
const OPERATIONS = [
  ["post", "/v1/customers"],
  ["get", "/v1/customers"],
  ["post", "/v1/checkout/sessions"],
  ["get", "/v1/checkout/sessions/{session}"],
  ["post", "/v1/billing_portal/sessions"],
  ["get", "/v1/subscriptions"],
  ["get", "/v1/subscriptions/{subscription_exposed_id}"],
  ["post", "/v1/subscriptions/{subscription_exposed_id}"],
  ["post", "/v1/subscription_schedules"],
  ["get", "/v1/subscription_schedules/{schedule}"],
  ["post", "/v1/subscription_schedules/{schedule}"],
  ["post", "/v1/subscription_schedules/{schedule}/release"],
  ["get", "/v1/payment_intents/{intent}"],
  ["get", "/v1/invoices/{invoice}"],
  ["get", "/v1/prices/{price}"],
];

/** Spec component → the SDK's generated interface for it (used only when the spec's version is not the pinned one). */
const SDK_OBJECTS = {
  "checkout.session": ["Checkout/Sessions.d.ts", "Session"],
  subscription: ["Subscriptions.d.ts", "Subscription"],
  subscription_item: ["SubscriptionItems.d.ts", "SubscriptionItem"],
  subscription_schedule: ["SubscriptionSchedules.d.ts", "SubscriptionSchedule"],
  invoice: ["Invoices.d.ts", "Invoice"],
  line_item: ["InvoiceLineItems.d.ts", "InvoiceLineItem"],
  customer: ["Customers.d.ts", "Customer"],
  payment_intent: ["PaymentIntents.d.ts", "PaymentIntent"],
  charge: ["Charges.d.ts", "Charge"],
  "billing_portal.session": ["BillingPortal/Sessions.d.ts", "Session"],
  price: ["Prices.d.ts", "Price"],
};

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  return out;
}

async function loadSpec(opts) {
  if (opts.spec) {
    const text = readFileSync(opts.spec, "utf8");
    if (opts.spec.endsWith(".json")) return JSON.parse(text);
    const { parse } = await import("yaml");
    return parse(text, { maxAliasCount: -1 });
  }
  if (!opts.ref) throw new Error("give --spec <path> or --ref <git ref>");
  const res = await fetch(`https://raw.githubusercontent.com/stripe/openapi/${opts.ref}/openapi/spec3.json`);
  if (!res.ok) throw new Error(`download of spec3.json at ${opts.ref}: HTTP ${res.status}`);
  return res.json();
}

const sdkApiVersion = () => /ApiVersion = '([^']+)'/.exec(readFileSync(join(ROOT, "node_modules", "stripe", "esm", "apiVersion.js"), "utf8"))[1];

const stripDescriptions = (n) =>
  Array.isArray(n) ? n.map(stripDescriptions) : n && typeof n === "object" ? Object.fromEntries(Object.entries(n).filter(([k]) => k !== "description").map(([k, v]) => [k, stripDescriptions(v)])) : n;

function refsIn(node, found = new Set()) {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, found));
  else if (node && typeof node === "object") {
    if (typeof node.$ref === "string") found.add(node.$ref.replace("#/components/schemas/", ""));
    Object.values(node).forEach((v) => refsIn(v, found));
  }
  return found;
}

/** The top-level properties of an SDK interface: name → { optional, type }. */
function sdkProperties(file, iface) {
  const text = readFileSync(join(SDK_RESOURCES, file), "utf8");
  const start = text.search(new RegExp(`\\n(export )?(declare )?interface ${iface} \\{`));
  if (start < 0) throw new Error(`no interface ${iface} in ${file}`);
  const props = {};
  for (const line of text.slice(start).split("\n").slice(2)) {
    if (/^(export )?(declare )?}/.test(line)) break;
    const m = /^ {4}([a-z_0-9]+)(\?)?: (.*);$/.exec(line);
    if (m) props[m[1]] = { optional: !!m[2], type: m[3] };
  }
  return props;
}

/** A schema for an SDK property type: scalars exactly, anything else only as "present". */
function schemaForSdkType(type) {
  const parts = type.split(" | ").map((t) => t.trim());
  const nullable = parts.includes("null");
  const rest = parts.filter((t) => t !== "null");
  const scalar = { string: "string", number: "number", boolean: "boolean" };
  if (rest.length === 1 && scalar[rest[0]]) return { type: scalar[rest[0]], ...(nullable ? { nullable: true } : {}) };
  if (rest.length === 1 && /^Array</.test(rest[0])) return { type: "array", ...(nullable ? { nullable: true } : {}) };
  return {};
}

function reconcileWithSdk(schemas, changes) {
  for (const [name, [file, iface]] of Object.entries(SDK_OBJECTS)) {
    const schema = schemas[name];
    if (!schema) continue;
    const sdk = sdkProperties(file, iface);
    for (const prop of Object.keys(schema.properties)) {
      if (prop in sdk) continue;
      delete schema.properties[prop];
      schema.required = (schema.required ?? []).filter((r) => r !== prop);
      changes.push(`${name}.${prop}: removed (absent from the SDK's ${iface} type)`);
    }
    for (const [prop, { optional, type }] of Object.entries(sdk)) {
      if (prop in schema.properties || type === "void") continue;
      schema.properties[prop] = schemaForSdkType(type);
      if (!optional) schema.required = [...new Set([...(schema.required ?? []), prop])].sort();
      changes.push(`${name}.${prop}: added as ${JSON.stringify(schema.properties[prop])}${optional ? "" : ", required"} (SDK: ${prop}${optional ? "?" : ""}: ${type})`);
    }
  }
}

function applyOverlay(operations, overlay, changes) {
  for (const entry of overlay.request_changes) {
    const op = operations[entry.operation];
    if (!op?.body) throw new Error(`overlay names an operation that is not vendored: ${entry.operation}`);
    let node = op.body;
    for (const seg of entry.path) node = seg === "[]" ? node.items : node.properties[seg];
    node.properties[entry.property] = entry.schema;
    changes.push(`${entry.operation} ${[...entry.path, entry.property].join(".")}: added (${entry.why})`);
  }
}

async function main() {
  const opts = args();
  const spec = await loadSpec(opts);
  const pinned = sdkApiVersion();
  const operations = {};
  const roots = new Set(OBJECTS);
  for (const [method, path] of OPERATIONS) {
    const op = spec.paths[path]?.[method];
    if (!op) throw new Error(`the spec has no ${method.toUpperCase()} ${path}`);
    const entry = {
      query: Object.fromEntries((op.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, { schema: stripDescriptions(p.schema), style: p.style, explode: p.explode }])),
      body: stripDescriptions(op.requestBody?.content?.["application/x-www-form-urlencoded"]?.schema ?? null),
      response: stripDescriptions(op.responses?.["200"]?.content?.["application/json"]?.schema ?? null),
    };
    operations[`${method.toUpperCase()} ${path}`] = entry;
    refsIn(entry).forEach((r) => roots.add(r));
  }
  const schemas = {};
  const queue = [...roots];
  while (queue.length) {
    const name = queue.shift();
    if (schemas[name]) continue;
    const schema = spec.components.schemas[name];
    if (!schema) throw new Error(`the spec has no component ${name}`);
    schemas[name] = stripDescriptions(schema);
    for (const r of refsIn(schema)) if (!schemas[r]) queue.push(r);
  }
  const changes = [];
  if (spec.info.version !== pinned) {
    if (!schemas.line_item) schemas.line_item = stripDescriptions(spec.components.schemas.line_item);
    reconcileWithSdk(schemas, changes);
    applyOverlay(operations, JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "version-overlay.json"), "utf8")), changes);
  }
  const source = {
    repository: "stripe/openapi",
    path: opts.spec?.endsWith(".yaml") ? "openapi/spec3.yaml" : "openapi/spec3.json",
    commit: opts.commit ?? opts.ref ?? null,
    committed_at: opts["committed-at"] ?? null,
    spec_version: spec.info.version,
    sdk_api_version: pinned,
    reconciled_with_sdk_types: changes,
  };
  const sorted = Object.fromEntries(Object.keys(schemas).sort().map((k) => [k, schemas[k]]));
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "stripe-openapi.json"), `${JSON.stringify({ source, objects: OBJECTS, operations, components: { schemas: sorted } })}\n`);
  writeFileSync(join(OUT_DIR, "SOURCE.json"), `${JSON.stringify(source, null, 2)}\n`);
  console.log(`${Object.keys(sorted).length} components, ${Object.keys(operations).length} operations, spec ${spec.info.version} (SDK pins ${pinned}), ${changes.length} reconciliations`);
}

await main();
