// Issue #13, "VEX you can trust on real images": each labelled test image (sandbox-runner/test-images/
// <name>/truth.json, built by build-labelled.sh, truth checked without the engine by verify-truth.sh)
// goes through the public API of the running stack like a customer's image, and the VEX is scored
// against the ground truth. Per image:
//   1. no false not_affected: no package whose code ran has a not_affected statement;
//   2. recall ≥ 0.8: of the packages truly unused, at least 80 % are resolved to not_affected.
// LABELLED_IMAGES="shell-entry node-deps" picks images (default: all four).
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { api, checks } from "./lib.mjs";

const cache = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const opToken = process.env.OPERATOR_TOKEN;
const imagesDir = join(dirname(fileURLToPath(import.meta.url)), "../../sandbox-runner/test-images");
const names = (process.env.LABELLED_IMAGES ?? "shell-entry musl-busybox node-deps java-jars").split(/[\s,]+/).filter(Boolean);
const RECALL_FLOOR = 0.8;

const { check, done } = checks();
const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));

// pkg:TYPE/NAMESPACE/NAME@VERSION?… → parts, percent-decoded, qualifiers and subpath dropped.
function parsePurl(purl) {
  const m = /^pkg:([^/]+)\/(.+)@([^?#]+)/.exec(purl ?? "");
  if (!m) return null;
  const segs = m[2].split("/").map(decodeURIComponent);
  return { type: m[1].toLowerCase(), name: segs.pop(), namespace: segs.join("/"), version: decodeURIComponent(m[3]) };
}
const samePackage = (a, b) => a && b && a.type === b.type && a.name === b.name && a.version === b.version && (!a.namespace || !b.namespace || a.namespace === b.namespace);

// ---- account: a starter organization (runtime verdicts need reachability_analysis) -----------------
const email = `e2e-labelled-${Date.now()}@example.com`;
const reg = await api("POST", "/api/v1/auth/register", { body: { email, password: "testpass123", name: "E2E labelled", organization_name: "E2E Labelled Org" } });
check("register", reg.status === 201, reg.text);
const orgId = reg.json?.organization_id;
const token = (await api("POST", "/api/v1/auth/login", { body: { email, password: "testpass123" } })).json?.access_token;
const up = await api("POST", `/internal/v1/ops/organizations/${orgId}/plan`, { headers: { Authorization: `Bearer ${opToken}` }, body: { tier: "starter", reason: "e2e labelled images" } });
check("upgrade to starter", up.status === 200, up.text);

const summary = [];
for (const name of names) {
  console.log(`\n=== ${name}`);
  const truthFile = `${cache}/${name}.truth.json`;
  if (!check(`${name}: built (${truthFile})`, existsSync(truthFile) && existsSync(`${cache}/${name}.digest`), "run sandbox-runner/test-images/build-labelled.sh")) {
    summary.push({ name, ok: false, why: "not built" });
    continue;
  }
  const truth = readJson(truthFile);
  const digest = readFileSync(`${cache}/${name}.digest`, "utf8").trim();
  const body = {
    image_ref: `localhost/vexxy-test/${name}:latest`,
    image_digest: digest,
    config: {
      test_script: readFileSync(join(imagesDir, name, truth.run.test_script), "utf8"),
      ports: [truth.run.port],
      test_timeout: truth.run.test_timeout ?? 120,
    },
    vulnerabilities: readJson(`${cache}/${name}.vulns.grype.json`),
  };
  if (existsSync(`${cache}/${name}.sbom.syft.json`)) body.sbom = readJson(`${cache}/${name}.sbom.syft.json`);
  const sub = await api("POST", "/api/v1/analysis/submit", { token, body });
  if (!check(`${name}: submit → 201`, sub.status === 201, sub.text)) {
    summary.push({ name, ok: false, why: "submit failed" });
    continue;
  }
  const jobId = sub.json.job_id;
  let status;
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    status = (await api("GET", `/api/v1/analysis/${jobId}/status`, { token })).json;
    if (["complete", "failed", "cancelled"].includes(status?.status)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (!check(`${name}: job ${jobId} completes`, status?.status === "complete", JSON.stringify(status))) {
    summary.push({ name, ok: false, why: `job ${status?.status ?? "timed out"}` });
    continue;
  }
  const results = (await api("GET", `/api/v1/analysis/${jobId}/results`, { token })).json;
  const statements = results?.vex_document?.statements ?? [];
  const report = results?.reachability_results ?? {};
  const decisions = Array.isArray(report.decisions) ? report.decisions : [];
  const ev = report.evidence ?? {};
  console.log(
    `run: trace ${ev.trace_source ?? "?"} complete=${ev.complete} from_first_exec=${ev.from_first_exec} healthy=${ev.healthy} exercised=${ev.exercised}` +
      ` events exec=${ev.events?.execs} open=${ev.events?.opens} mmap=${ev.events?.mmaps}; ${statements.length} VEX statements`,
  );

  const rows = truth.packages.map((p) => {
    const want = parsePurl(p.purl);
    const mine = statements.filter((s) => (s.products ?? []).some((prod) => (prod.subcomponents ?? []).some((c) => samePackage(parsePurl(c["@id"] ?? c.identifiers?.purl), want))));
    const decision = decisions.find((d) => d.vulnerability?.id === p.cve && (samePackage(parsePurl(d.package?.purl), want) || d.package?.name === p.name));
    return {
      p,
      statuses: [...new Set(mine.map((s) => s.status))],
      justifications: [...new Set(mine.map((s) => s.justification).filter(Boolean))],
      confidence: decision?.confidence ?? null,
      reason: decision?.reason ?? "",
    };
  });
  const w = { pkg: Math.max(...rows.map((r) => `${r.p.ecosystem}/${r.p.name}`.length), 7), st: 19 };
  console.log(`${"package".padEnd(w.pkg)}  truth   ${"VEX status".padEnd(w.st)} ${"justification".padEnd(36)} confidence  verdict`);
  let falseNA = 0;
  let unused = 0;
  let resolved = 0;
  for (const r of rows) {
    const na = r.statuses.includes("not_affected");
    let verdict;
    if (r.p.used) {
      if (na) falseNA++;
      verdict = na ? "FALSE not_affected" : r.statuses.length ? "ok" : "ok (no statement)";
    } else {
      unused++;
      if (na && r.statuses.length === 1) resolved++;
      verdict = na && r.statuses.length === 1 ? "resolved" : "unresolved";
    }
    console.log(
      `${`${r.p.ecosystem}/${r.p.name}`.padEnd(w.pkg)}  ${(r.p.used ? "USED" : "unused").padEnd(6)}  ${(r.statuses.join(",") || "(none)").padEnd(w.st)} ${(r.justifications.join(",") || "-").padEnd(36)} ${(r.confidence ?? "-").padEnd(10)}  ${verdict}`,
    );
    if (verdict === "FALSE not_affected" || verdict === "unresolved") console.log(`${" ".repeat(w.pkg + 2)}  ↳ ${r.reason.slice(0, 220)}`);
  }
  const recall = unused ? resolved / unused : 1;
  // By ecosystem too: a handful of unused native libraries can carry an image's recall on their own.
  const eco = {};
  for (const r of rows.filter((x) => !x.p.used)) {
    eco[r.p.ecosystem] ??= [0, 0];
    eco[r.p.ecosystem][1]++;
    if (r.statuses.length === 1 && r.statuses[0] === "not_affected") eco[r.p.ecosystem][0]++;
  }
  console.log(`recall of unused by ecosystem: ${Object.entries(eco).map(([k, [n, d]]) => `${k} ${n}/${d}`).join(", ")}`);
  const a = check(`${name}: no false not_affected (used packages with a not_affected statement: ${falseNA})`, falseNA === 0);
  const b = check(`${name}: recall of unused packages ${resolved}/${unused} = ${recall.toFixed(2)} ≥ ${RECALL_FLOOR}`, recall >= RECALL_FLOOR);
  summary.push({ name, ok: a && b, why: `false not_affected ${falseNA}, recall ${resolved}/${unused}` });
}

console.log("\nlabelled images:");
for (const s of summary) console.log(`  ${s.ok ? "pass" : "FAIL"} ${s.name.padEnd(13)} ${s.why}`);
done("labelled e2e");
