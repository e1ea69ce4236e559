// `npm run ops -- <command> --org <uuid> [...]`: support operations through the operator endpoint.
//   show   --org ID                                   the ledger account
//   ledger --org ID                                   every ledger entry
//   grant  --org ID --credits N --reason TEXT [--pool purchased|grant] [--request-id ID]   (N may be negative)
//   tier   --org ID --tier free|starter|professional|enterprise --reason TEXT [--status active] [--new-period]
// BASE_URL (default http://localhost:8001) and OPERATOR_TOKEN (default: from .dev.vars / .dev.vars.example).
import { existsSync, readFileSync } from "node:fs";

const [command, ...rest] = process.argv.slice(2);
const args = {};
for (let i = 0; i < rest.length; i++) {
  const k = rest[i];
  if (!k.startsWith("--")) continue;
  const next = rest[i + 1];
  if (next === undefined || next.startsWith("--")) args[k.slice(2)] = true;
  else (args[k.slice(2)] = next), i++;
}
function devToken() {
  for (const f of [".dev.vars", ".dev.vars.example"]) {
    if (!existsSync(f)) continue;
    const m = /^OPERATOR_TOKEN=(.*)$/m.exec(readFileSync(f, "utf8"));
    if (m) return m[1].trim();
  }
  return undefined;
}
const base = (process.env.BASE_URL ?? "http://localhost:8001").replace(/\/$/, "");
const token = process.env.OPERATOR_TOKEN ?? devToken();
const usage = () => {
  console.error("usage: npm run ops -- show|ledger|grant|tier --org <uuid> [--credits N --reason TEXT] [--tier T --reason TEXT]");
  process.exit(2);
};
if (!command || !args.org || !token) usage();

const routes = {
  show: ["GET", `/organizations/${args.org}/account`],
  ledger: ["GET", `/organizations/${args.org}/ledger`],
  grant: ["POST", `/organizations/${args.org}/credits`, { credits: Number(args.credits), reason: args.reason, pool: args.pool ?? "purchased", ...(args["request-id"] ? { request_id: args["request-id"] } : {}) }],
  tier: ["POST", `/organizations/${args.org}/plan`, { tier: args.tier, status: args.status ?? "active", reason: args.reason, new_period: Boolean(args["new-period"]), ...(args["request-id"] ? { request_id: args["request-id"] } : {}) }],
};
const route = routes[command];
if (!route) usage();
const [method, path, body] = route;
const res = await fetch(`${base}/internal/v1/ops${path}`, {
  method,
  headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
  body: body ? JSON.stringify(body) : undefined,
});
const text = await res.text();
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
process.exit(res.ok ? 0 : 1);
