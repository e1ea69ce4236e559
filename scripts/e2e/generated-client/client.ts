// A client generated from the running stack's /openapi.json, as an integrator would make one:
// openapi-typescript writes the types (build/generated-client/api.d.ts, by the e2e step), openapi-fetch
// makes the calls. It drives register → login → subscription → submit → status and checks each answer;
// `tsc` has checked this file against the generated types first, so a renamed field, a missing
// operation or a wrong body fails before a request is sent.
import createClient from "openapi-fetch";
import type { operations, paths } from "../../../build/generated-client/api.js";
import { randomUUID } from "node:crypto";

const base = (process.env.BASE_URL ?? "http://localhost:8001").replace(/\/$/, "");
const api = createClient<paths>({ baseUrl: base });
let failures = 0;
const check = (name: string, cond: boolean, detail: unknown = "") => {
  console.log(`${cond ? "ok  " : "FAIL"} ${name}${!cond && detail ? ` — ${JSON.stringify(detail).slice(0, 300)}` : ""}`);
  if (!cond) failures++;
  return cond;
};

const email = `generated-client-${randomUUID()}@example.com`;
const password = "generated-client-pass-1";

const registered = await api.POST("/api/v1/auth/register", { body: { email, password, name: "Generated Client", organization_name: "Generated Client Org" } });
check("register → 201 with the organization", registered.response.status === 201 && !!registered.data?.organization_id, registered.error);

const login = await api.POST("/api/v1/auth/login", { body: { email, password } });
const token = login.data?.access_token;
check("login → 200 with a bearer token", login.response.status === 200 && login.data?.token_type === "bearer" && !!token, login.error);
const auth = { headers: { Authorization: `Bearer ${token}` } };

const sub = await api.GET("/api/v1/billing/subscription", auth);
check("subscription → 200, free tier, active", sub.data?.tier === "free" && sub.data.status === "active", sub.error);

const noAuth = await api.GET("/api/v1/billing/subscription");
check("subscription without a token → 401 in the envelope", noAuth.response.status === 401 && noAuth.error?.error === "UNAUTHORIZED", noAuth.error);

// Named by operationId, as generators that emit one method per operation name them.
type SubmitBody = operations["submitAnalysis"]["requestBody"]["content"]["application/json"];
const body: SubmitBody = {
  image_ref: "localhost/vexxy-generated-client:never-pulled",
  image_digest: `sha256:${"ab".repeat(32)}`,
  config: { ports: [8080], test_timeout: 60 },
};
const submitted = await api.POST("/api/v1/analysis/submit", { ...auth, params: { header: { "idempotency-key": randomUUID() } }, body });
const jobId = submitted.data?.job_id;
check("submit → 201 queued with a job id", submitted.response.status === 201 && submitted.data?.status === "queued" && !!jobId, submitted.error);

if (jobId) {
  const status = await api.GET("/api/v1/analysis/{job_id}/status", { ...auth, params: { path: { job_id: jobId } } });
  check("status → 200 for the job", status.response.status === 200 && status.data?.job_id === jobId, status.error);
  // Nothing to run here: cancel so the job leaves the runner alone.
  const cancelled = await api.POST("/api/v1/analysis/{job_id}/cancel", { ...auth, params: { path: { job_id: jobId } } });
  check("cancel → 200 cancelled (or 409 if it already ended)", cancelled.data?.status === "cancelled" || cancelled.response.status === 409, cancelled.error);
}

const refused = await api.POST("/api/v1/analysis/submit", { ...auth, body: { image_ref: "nginx:1.25", image_digest: "sha256:abc123...", config: { ports: [80] } } });
check("submit with the spec's elided digest → 400 VALIDATION_ERROR naming image_digest", refused.response.status === 400 && JSON.stringify(refused.error?.details ?? {}).includes("image_digest"), refused.error);

console.log(`\ngenerated client: ${failures ? "FAILED" : "passed"} (${failures} failure${failures === 1 ? "" : "s"})`);
process.exit(failures ? 1 : 0);
