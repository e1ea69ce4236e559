// `npm run smoke`: walks register → login → subscription → credits → usage → events → tiers against a
// running service (BASE_URL, default http://localhost:8001) and checks the spec's field names and types.
const base = (process.env.BASE_URL ?? "http://localhost:8001").replace(/\/$/, "");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
let failures = 0;

function check(name, cond, detail = "") {
  console.log(`${cond ? "ok  " : "FAIL"} ${name}${cond || !detail ? "" : ` — ${detail}`}`);
  if (!cond) failures++;
}

/** Every field of the spec's example, with its JSON type ("iso" = ISO-8601 UTC string; "?" = nullable). */
function shape(name, body, fields) {
  for (const [k, t] of Object.entries(fields)) {
    const v = body?.[k];
    const nullable = t.endsWith("?");
    const type = t.replace("?", "");
    const ok =
      k in (body ?? {}) &&
      ((nullable && v === null) ||
        (type === "iso" ? typeof v === "string" && ISO.test(v) : type === "int" ? Number.isInteger(v) : type === "array" ? Array.isArray(v) : typeof v === type));
    check(`${name}.${k} is ${t}`, ok, JSON.stringify(v));
  }
}

async function req(method, path, { token, body } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, json, text };
}

const email = `smoke-${Date.now()}@example.com`;
const reg = await req("POST", "/api/v1/auth/register", { body: { email, password: "testpass123", name: "Test User", organization_name: "Test Org" } });
check("register → 201", reg.status === 201, reg.text);
const dup = await req("POST", "/api/v1/auth/register", { body: { email, password: "testpass123", name: "Test User", organization_name: "Test Org" } });
check("register again → 409 RESOURCE_CONFLICT", dup.status === 409 && dup.json?.error === "RESOURCE_CONFLICT", dup.text);
const login = await req("POST", "/api/v1/auth/login", { body: { email, password: "testpass123" } });
check("login → 200", login.status === 200, login.text);
shape("login", login.json, { access_token: "string", token_type: "string", expires_in: "int" });
check("login.token_type is bearer", login.json?.token_type === "bearer");
const token = login.json?.access_token;

const sub = await req("GET", "/api/v1/billing/subscription", { token });
check("subscription → 200", sub.status === 200, sub.text);
shape("subscription", sub.json, {
  id: "string", organization_id: "string", tier: "string", status: "string", monthly_analysis_limit: "int?", monthly_credit_limit: "int?",
  current_period_analyses: "int", current_period_credits_used: "int", current_period_start: "iso", current_period_end: "iso",
  trial_end: "iso?", cancel_at_period_end: "boolean", created_at: "iso",
});
check("subscription is free and active", sub.json?.tier === "free" && sub.json?.status === "active");

const credits = await req("GET", "/api/v1/billing/credits", { token });
check("credits → 200", credits.status === 200, credits.text);
shape("credits", credits.json, { organization_id: "string", credit_balance: "int", organization_name: "string" });
check("credits.organization_name is the registered name", credits.json?.organization_name === "Test Org");

const usage = await req("GET", "/api/v1/billing/usage", { token });
check("usage → 200", usage.status === 200, usage.text);
shape("usage", usage.json, {
  organization_id: "string", current_period_analyses: "int", current_period_credits_used: "int", monthly_analysis_limit: "int?",
  monthly_credit_limit: "int?", current_period_start: "iso", current_period_end: "iso", utilization_percent: "number?",
});

// The ledger mirrors its history to D1 within a few seconds.
let events;
for (let i = 0; i < 60; i++) {
  events = await req("GET", "/api/v1/billing/events?limit=50&offset=0", { token });
  if (Array.isArray(events.json) && events.json.length) break;
  await new Promise((r) => setTimeout(r, 250));
}
check("events → 200 with the first plan grant", events.status === 200 && events.json?.length >= 1, events.text);
if (events.json?.[0]) {
  shape("events[0]", events.json[0], {
    id: "string", organization_id: "string", event_type: "string", description: "string", analysis_job_id: "string?",
    credits_amount: "int", balance_after: "int", created_at: "iso",
  });
}
const badPage = await req("GET", "/api/v1/billing/events?limit=0", { token });
check("events?limit=0 → 400 VALIDATION_ERROR", badPage.status === 400 && badPage.json?.error === "VALIDATION_ERROR", badPage.text);

const tiers = await req("GET", "/api/v1/billing/tiers");
check("tiers → 200 without a token", tiers.status === 200, tiers.text);
check("tiers are free, starter, professional, enterprise", JSON.stringify(tiers.json?.map((t) => t.tier)) === '["free","starter","professional","enterprise"]');
for (const t of tiers.json ?? []) shape(`tiers[${t.tier}]`, t, { tier: "string", monthly_analysis_limit: "int?", monthly_credit_limit: "int?", priority: "int", features: "array" });

const unauth = await req("GET", "/api/v1/billing/subscription");
check("no token → 401 envelope", unauth.status === 401 && ["error", "message", "details", "timestamp"].every((k) => k in (unauth.json ?? {})), unauth.text);

// Over the wire (a real socket, not in-process): a 40 MB chunked body with no Content-Length, past
// the 1 MiB limit, must be answered 413 in the envelope, not with a reset connection.
let sent = 0;
const chunk = new Uint8Array(64 * 1024).fill(32);
const oversized = new ReadableStream({
  pull(ctrl) {
    if (sent >= 40 * 1024 * 1024) return ctrl.close();
    sent += chunk.byteLength;
    ctrl.enqueue(chunk);
  },
});
try {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: oversized, duplex: "half" });
  const body = await res.json().catch(() => null);
  check("a 40 MB chunked body → 413 envelope (not a reset)", res.status === 413 && body?.error === "VALIDATION_ERROR" && body?.details?.max_bytes === 1048576, JSON.stringify(body));
} catch (err) {
  check("a 40 MB chunked body → 413 envelope (not a reset)", false, String(err?.cause ?? err));
}

console.log(`\nsmoke: ${failures ? "FAILED" : "passed"} (${failures} failure${failures === 1 ? "" : "s"}) against ${base}`);
process.exit(failures ? 1 : 0);
