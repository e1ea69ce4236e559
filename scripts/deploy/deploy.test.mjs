// Issue #20: `npm run provision` creates only what is missing and prints the D1 id; `npm run deploy`
// refuses placeholders and missing secrets, migrates before it deploys, and checks the live Worker.
// Run against a fake wrangler (test/fake-wrangler.mjs) holding a fake account; the real wrangler
// checks the configuration in the dry run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { REQUIRED_SECRETS } from "./wrangler-env.mjs";

const root = resolve(import.meta.dirname, "../..");

function account(over = {}) {
  const dir = mkdtempSync(join(tmpdir(), "vexxy-deploy-test-"));
  const files = { state: join(dir, "state.json"), log: join(dir, "calls.log"), toml: join(dir, "wrangler.toml") };
  writeFileSync(files.log, "");
  writeFileSync(files.state, JSON.stringify({ d1: {}, queues: [], buckets: [], secrets: [], deployed: 0, failMigrations: false, ...over }));
  writeFileSync(files.toml, readFileSync(join(root, "wrangler.toml"), "utf8").replaceAll('main = "src/index.ts"', `main = "${join(root, "src/index.ts")}"`).replaceAll('migrations_dir = "migrations"', `migrations_dir = "${join(root, "migrations")}"`));
  // Asynchronous, so a test's own HTTP server (the "deployed Worker") can answer while it runs.
  const run = (script, ...args) =>
    new Promise((done) => {
      const child = spawn(process.execPath, [join(root, "scripts/deploy", script), "--config", files.toml, ...args], {
        env: { ...process.env, WRANGLER: `${process.execPath} ${join(root, "scripts/deploy/test/fake-wrangler.mjs")}`, FAKE_WRANGLER_STATE: files.state, FAKE_WRANGLER_LOG: files.log },
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("close", (status) => done({ status, out }));
    });
  const calls = () => readFileSync(files.log, "utf8").trim().split("\n").filter(Boolean);
  const state = () => JSON.parse(readFileSync(files.state, "utf8"));
  return { files, run, calls, state };
}

test("provision creates what is missing, then nothing; prints the D1 id", async () => {
  const a = account({ queues: ["vexxy-analysis-jobs-production"] });
  const first = await a.run("provision.mjs", "--env", "production");
  assert.equal(first.status, 0, first.out);
  const s = a.state();
  assert.deepEqual(Object.keys(s.d1), ["vexxy-premium-production"]);
  assert.deepEqual(s.queues.sort(), ["vexxy-analysis-jobs-dlq-production", "vexxy-analysis-jobs-production", "vexxy-outbound-webhooks-production"]);
  assert.deepEqual(s.buckets, ["vexxy-analysis-artifacts-production"]);
  assert.match(first.out, new RegExp(`database_id = "${s.d1["vexxy-premium-production"]}"`));
  assert.match(first.out, /4 created, 0 failed/);

  const again = await a.run("provision.mjs", "--env", "production");
  assert.equal(again.status, 0, again.out);
  assert.match(again.out, /0 created, 0 failed/);
  assert.equal(a.calls().filter((c) => c.includes(" create ")).length, 4, "the second run created nothing");
  assert.match(again.out, new RegExp(`database_id = "${s.d1["vexxy-premium-production"]}"`), "and still prints the id");
});

test("provision --dry-run creates nothing", async () => {
  const a = account();
  const r = await a.run("provision.mjs", "--env", "staging", "--dry-run");
  assert.equal(r.status, 0, r.out);
  assert.equal(a.calls().filter((c) => c.includes(" create ")).length, 0);
  assert.match(r.out, /create {3}queue vexxy-analysis-jobs-dlq-staging/);
});

test("deploy refuses the placeholder D1 id and points at provision", async () => {
  const a = account();
  const r = await a.run("deploy.mjs", "--env", "production");
  assert.equal(r.status, 1);
  assert.match(r.out, /npm run provision -- --env production/);
  assert.deepEqual(a.calls(), [], "nothing ran against the account");
});

function withId(a) {
  const toml = readFileSync(a.files.toml, "utf8");
  const i = toml.indexOf("[[env.production.d1_databases]]");
  writeFileSync(a.files.toml, toml.slice(0, i) + toml.slice(i).replace("00000000-0000-0000-0000-000000000000", "3f1c2b7a-9e0d-4c5b-8a7f-0e1d2c3b4a59"));
}

test("deploy refuses when secrets are missing, naming each put command", async () => {
  const a = account({ secrets: ["JWT_SECRET_KEY"] });
  withId(a);
  const r = await a.run("deploy.mjs", "--env", "production");
  assert.equal(r.status, 1);
  assert.match(r.out, /npx wrangler secret put RUNNER_SECRET --env production/);
  assert.doesNotMatch(r.out, /secret put JWT_SECRET_KEY/);
  assert.equal(a.state().deployed, 0);
});

test("deploy does not deploy when migrations fail", async () => {
  const a = account({ secrets: REQUIRED_SECRETS, failMigrations: true });
  withId(a);
  const r = await a.run("deploy.mjs", "--env", "production");
  assert.equal(r.status, 1);
  assert.match(r.out, /migrations failed/);
  assert.equal(a.state().deployed, 0);
});

test("deploy migrates, then deploys, then reports a Worker that refuses its configuration", async () => {
  const server = createServer((req, res) => {
    if (req.url === "/health") return res.end('{"status":"ok"}');
    res.writeHead(503, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: "SERVICE_UNAVAILABLE", message: "misconfigured", details: { settings: ["JWT_SECRET_KEY"] }, timestamp: "" }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const a = account({ secrets: REQUIRED_SECRETS });
    withId(a);
    writeFileSync(a.files.toml, readFileSync(a.files.toml, "utf8").replace('PUBLIC_BASE_URL = "https://premium.vexxy.dev"', `PUBLIC_BASE_URL = "http://127.0.0.1:${server.address().port}"`));
    const r = await a.run("deploy.mjs", "--env", "production");
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /configuration check refuses it \(503\): JWT_SECRET_KEY/);
    const order = a.calls().map((c) => c.split(" ").slice(0, 3).join(" "));
    assert.deepEqual(order, ["secret list --env", "d1 migrations apply", "deploy --env production"]);
    assert.equal(a.state().deployed, 1);
  } finally {
    server.close();
  }
});

test("deploy --dry-run checks both environments with the real wrangler, without an account", async () => {
  for (const env of ["staging", "production"]) {
    const a = account();
    const r = await a.run("deploy.mjs", "--env", env, "--dry-run");
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`would migrate vexxy-premium-${env} and deploy vexxy-premium-${env}`));
  }
});
