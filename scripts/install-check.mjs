// postinstall: one line saying which Node runs the project, and a warning only for what is actually
// wrong. npm itself is kept to errors (.npmrc loglevel=error): installing with the system's Node 20
// made it print ~60 lines of EBADENGINE warnings for packages that never run on Node 20 — npm
// scripts put the project's Node 22 (the `node` dev dependency) first on PATH, and this script runs
// on it. So the engines are checked here, against the Node that will run them.
import { existsSync, readFileSync } from "node:fs";
import semver from "semver";

const npmOn = /\bnode\/(v[\d.]+)/.exec(process.env.npm_config_user_agent ?? "")?.[1] ?? "(unknown)";
const problems = [];
const onProjectNode = process.execPath.includes("/node_modules/node/");
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const projectNode = lock.packages["node_modules/node"]?.version;
if (!onProjectNode) {
  problems.push(`this ran on ${process.execPath}, not the project's Node (node_modules/.bin/node): is the \`node\` dev dependency installed?`);
} else if (projectNode && semver.major(projectNode) !== semver.major(process.version)) {
  problems.push(`node_modules/.bin/node is ${process.version}, package-lock.json pins ${projectNode}: run npm ci`);
}
// The engines npm would have checked (installed, non-optional packages), against the Node that runs them.
for (const [path, pkg] of Object.entries(lock.packages)) {
  const range = pkg.engines?.node;
  if (!range || pkg.optional || !existsSync(`${path || "."}/package.json`)) continue;
  if (!semver.satisfies(process.version, range, { includePrerelease: true })) {
    problems.push(`${pkg.name ?? path.replace(/^.*node_modules\//, "")}@${pkg.version} requires Node ${range}, not ${process.version}`);
  }
}
if (onProjectNode) console.log(`[setup] npm ran on Node ${npmOn}; the project runs on Node ${process.version} (the \`node\` dev dependency, first on PATH in npm scripts)`);
for (const p of problems) console.warn(`[setup] warning: ${p}`);
