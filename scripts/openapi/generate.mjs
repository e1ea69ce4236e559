// Writes the OpenAPI document the Worker serves at /openapi.json to a file, without starting the
// Worker: the app is built in Node (tsx) with the development configuration (.dev.vars.example), and
// PUBLIC_BASE_URL, which names the deployment's server in the document, from the command line.
//
//   node --import tsx scripts/openapi/generate.mjs [out.json] [public-base-url]
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildApp } from "../../src/app.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const out = resolve(process.argv[2] ?? `${root}/build/openapi.json`);
const publicBaseUrl = process.argv[3] ?? "http://localhost:8001";

const env = {};
for (const line of readFileSync(`${root}/.dev.vars.example`, "utf8").split("\n")) {
  const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m) env[m[1]] = m[2];
}
const vars = readFileSync(`${root}/wrangler.toml`, "utf8");
for (const name of ["RUNNER_URL", "ENVIRONMENT"]) {
  const m = new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m").exec(vars);
  if (m) env[name] ??= m[1];
}
// The document route reads only configuration; bindings are never touched (DB is a key for a cache).
Object.assign(env, { PUBLIC_BASE_URL: publicBaseUrl, DB: {} });

const res = await buildApp().request("/openapi.json", {}, env);
if (res.status !== 200) {
  console.error(`/openapi.json answered ${res.status}: ${await res.text()}`);
  process.exit(1);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(await res.json(), null, 2) + "\n");
console.log(`[openapi] wrote ${out}`);
