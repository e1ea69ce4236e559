// After the end-to-end run (scripts/e2e.sh): the stack's log must contain no configured secret, no
// bearer token (any JWT), and no password the scripts registered. Prints each leak's kind and the
// line number (never the leaked value itself) and exits 1 if there is one.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const logPath = process.argv[2];
if (!logPath) {
  console.error("usage: node scripts/e2e/scan-logs.mjs STACK_LOG");
  process.exit(2);
}
const lines = readFileSync(logPath, "utf8").split("\n");

const vars = existsVars(".dev.vars") ?? readFileSync(".dev.vars.example", "utf8");
const secrets = [...vars.matchAll(/^([A-Z_]*(?:SECRET|TOKEN|KEY)[A-Z_]*)=(.+)$/gm)]
  .map((m) => ({ kind: `secret ${m[1]}`, value: m[2].trim() }))
  .filter((s) => s.value.length >= 8);

// Every password literal the end-to-end scripts register or sign in with.
const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === "node_modules" ? [] : sources(join(dir, e.name))) : /\.(mjs|ts|py)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
const scripts = ["scripts/smoke.mjs", ...sources("scripts/e2e")];
const passwords = new Set();
for (const f of scripts) {
  for (const m of readFileSync(f, "utf8").matchAll(/["']?password["']?\s*[:=]\s*["']([^"']{6,})["']/g)) passwords.add(m[1]);
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}/;
const needles = [...secrets, ...[...passwords].map((p) => ({ kind: "a registered password", value: p }))];
let leaks = 0;
lines.forEach((line, i) => {
  for (const n of needles) {
    if (line.includes(n.value)) {
      console.log(`LEAK line ${i + 1}: ${n.kind}`);
      leaks++;
    }
  }
  if (JWT.test(line)) {
    console.log(`LEAK line ${i + 1}: a bearer token (JWT)`);
    leaks++;
  }
});
console.log(`log scan: ${lines.length} lines, ${needles.length} secrets and passwords, and any JWT: ${leaks ? `${leaks} LEAKS` : "nothing leaked"}`);
process.exit(leaks ? 1 : 0);

function existsVars(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
