// End to end through the public API of the running stack (npm start: Worker + runner + podman):
// submit the offline-built Debian test image → the runner traces it in a podman sandbox → the VEX says
// `affected` for the library the service loads and `not_affected` for the package it never touches,
// the profile names the files, and the organization is charged exactly by the settlement rules.
import { readFileSync, existsSync } from "node:fs";
import { api, checks } from "./lib.mjs";

const cache = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const opToken = process.env.OPERATOR_TOKEN;
const { check, done } = checks();

const digest = readFileSync(`${cache}/target.digest`, "utf8").trim();
const vulnsFile = `${cache}/target.vulns.grype.json`;
if (!existsSync(vulnsFile)) throw new Error(`${vulnsFile} missing: run sandbox-runner/test-images/build.sh`);
const vulnerabilities = JSON.parse(readFileSync(vulnsFile, "utf8"));

const email = `e2e-${Date.now()}@example.com`;
const reg = await api("POST", "/api/v1/auth/register", { body: { email, password: "testpass123", name: "E2E", organization_name: "E2E Org" } });
check("register", reg.status === 201, reg.text);
const orgId = reg.json.organization_id;
const token = (await api("POST", "/api/v1/auth/login", { body: { email, password: "testpass123" } })).json.access_token;
// Runtime verdicts need reachability_analysis (starter and up).
const up = await api("POST", `/internal/v1/ops/organizations/${orgId}/plan`, { headers: { Authorization: `Bearer ${opToken}` }, body: { tier: "starter", reason: "e2e" } });
check("upgrade to starter", up.status === 200, up.text);
const before = (await api("GET", "/api/v1/billing/credits", { token })).json.credit_balance;

const sub = await api("POST", "/api/v1/analysis/submit", {
  token,
  body: {
    image_ref: "localhost/vexxy-test/target:latest",
    image_digest: digest,
    config: { test_script: "curl -fsS http://localhost:8080/health && curl -fsS http://localhost:8080/x", test_timeout: 120, ports: [8080], enable_profiling: true },
    vulnerabilities,
  },
});
check("submit → 201", sub.status === 201, sub.text);
const jobId = sub.json.job_id;
console.log(`job ${jobId} (max cost ${sub.json.max_cost_credits})`);

let status;
const phases = new Set();
const deadline = Date.now() + 6 * 60_000;
while (Date.now() < deadline) {
  status = (await api("GET", `/api/v1/analysis/${jobId}/status`, { token })).json;
  if (status.phase) phases.add(status.phase);
  if (["complete", "failed", "cancelled"].includes(status.status)) break;
  await new Promise((r) => setTimeout(r, 1000));
}
check("job completes", status?.status === "complete", JSON.stringify(status));
console.log(`phases seen: ${[...phases].join(" → ")}`);

const results = (await api("GET", `/api/v1/analysis/${jobId}/results`, { token })).json;
const statements = results?.vex_document?.statements ?? [];
const statusOf = (pkg) =>
  statements.filter((s) => (s.products ?? []).some((p) => (p.subcomponents ?? []).some((c) => (c["@id"] ?? "").includes(`/${pkg}@`)))).map((s) => s.status);
console.log("VEX:", statements.map((s) => `${s.vulnerability?.name} ${s.status}${s.justification ? ` (${s.justification})` : ""}`).join("; "));
check("VEX is OpenVEX v0.2.0", results?.vex_document?.["@context"] === "https://openvex.dev/ns/v0.2.0");
check("libssl3 (loaded by the service) is affected", statusOf("libssl3").includes("affected"), JSON.stringify(statusOf("libssl3")));
check("libsqlite3-0 (installed, never used) is not_affected", statusOf("libsqlite3-0").includes("not_affected"), JSON.stringify(statusOf("libsqlite3-0")));
check("bzip2 (installed, never used) is not_affected", statusOf("bzip2").includes("not_affected"), JSON.stringify(statusOf("bzip2")));
const profileText = JSON.stringify(results?.execution_profile ?? {});
check("execution profile names the interpreter and the mapped library", /python3/.test(profileText) && /libcrypto\.so\.3/.test(profileText), profileText.slice(0, 300));

// Charged exactly: base 10 + profiling 3 + 1 per started 5 minutes of sandbox run time.
const jobs = (await api("GET", "/api/v1/analysis?limit=5", { token })).json.jobs;
const row = jobs.find((j) => j.job_id === jobId);
const expectedMin = 10 + 3 + 1;
check(`cost is base + profiling + run time (${results?.cost_credits})`, results?.cost_credits === expectedMin, String(results?.cost_credits));
let after;
for (let i = 0; i < 20; i++) {
  after = (await api("GET", "/api/v1/billing/credits", { token })).json;
  if (after.held_credits === 0) break;
  await new Promise((r) => setTimeout(r, 250));
}
check("balance dropped by exactly the cost and nothing stays held", before - after.credit_balance === results?.cost_credits && after.held_credits === 0, JSON.stringify({ before, after }));
let events = [];
for (let i = 0; i < 60 && !events.some((e) => e.event_type === "analysis_completed"); i++) {
  events = (await api("GET", "/api/v1/billing/events", { token })).json;
  await new Promise((r) => setTimeout(r, 250));
}
const completed = events.find((e) => e.event_type === "analysis_completed" && e.analysis_job_id === jobId);
check("billing history has the settlement", completed?.credits_amount === -results?.cost_credits, JSON.stringify(completed));
check("listed job shows the same cost", row?.cost_credits === results?.cost_credits);

done("analysis e2e");
