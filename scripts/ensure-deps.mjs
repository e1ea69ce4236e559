// Runs before `npm start` / `npm test`: installs dependencies on a fresh clone (Node 22 comes from the
// `node` dev dependency, which npm scripts put first on PATH).
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";

if (!existsSync("node_modules/.bin/wrangler") || !existsSync("node_modules/.bin/node")) {
  console.log("[setup] installing dependencies (npm ci)…");
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
}
