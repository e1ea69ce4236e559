/**
 * Runs every benchmark of the sandbox runner, one after the other (`npm run bench -w sandbox-runner`).
 * Add a benchmark as its own file exporting a run function, and call it here.
 */
import { spawnSync } from "node:child_process";
import { runEngineBench } from "./engine.js";
import { main as runSandboxOverhead } from "./sandbox-overhead.js";

runEngineBench();

// The sandbox overhead needs root, podman and strace (it builds the offline test images first).
const canSandbox = process.getuid?.() === 0 && spawnSync("podman", ["--version"]).status === 0 && spawnSync("strace", ["-V"]).status === 0;
if (canSandbox) {
  await runSandboxOverhead(Number(process.env.BENCH_SANDBOX_RUNS ?? 5));
} else {
  console.log("\nsandbox overhead: skipped (needs root, podman and strace)");
}
