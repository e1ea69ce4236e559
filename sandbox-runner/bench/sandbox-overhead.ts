/**
 * Tracing overhead of the podman driver: time from `podman start` to the target's first successful
 * HTTP response, and the time for 200 sequential requests after that, untraced vs each strace variant.
 *
 *   npx tsx bench/sandbox-overhead.ts [runs=5]        (root, podman, strace; builds test images if needed)
 *
 * A poller in the target's network namespace (nsenter -n + this Node) starts before `podman start`
 * and reports, on the host's clock, when the first GET / answered.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { CONTAINERS_CONF, podman, podmanOk, run } from "../src/drivers/podman/exec.js";
import { TRACE_SYSCALLS } from "../src/drivers/podman/tracer.js";

type Variant = "untraced" | "attach-filtered" | "attach-all" | "seccomp-podman-init";
const VARIANTS: Variant[] = ["untraced", "attach-filtered", "attach-all", "seccomp-podman-init"];
const IMAGE = "localhost/vexxy-test/target:latest";
const REQUESTS = 200;

const POLLER = `
const http = require("node:http");
const get = () => new Promise((res) => {
  const r = http.get({ host: "127.0.0.1", port: 8080, path: "/", agent: false }, (s) => { s.resume(); s.on("end", () => res(true)); });
  r.on("error", () => res(false));
});
(async () => {
  const deadline = Date.now() + 60000;
  while (!(await get())) { if (Date.now() > deadline) process.exit(2); await new Promise((r) => setTimeout(r, 5)); }
  const first = Date.now();
  for (let i = 0; i < ${REQUESTS}; i++) await get();
  process.stdout.write(JSON.stringify({ first, load: Date.now() - first }));
})();
`;

interface Sample {
  startToFirstMs: number;
  requestsMs: number;
}

async function runOnce(variant: Variant): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "vexxy-bench-"));
  const id = (await podmanOk(["create", "--network", "none", "--read-only", "--cap-drop=all", "--label", "vexxy.bench=true", IMAGE])).trim();
  let strace: ReturnType<typeof spawn> | null = null;
  try {
    if (variant === "seccomp-podman-init") {
      // strace launches `podman init`; seccomp-bpf is inherited by conmon, runc and the container.
      strace = spawn(
        "strace",
        ["-ff", "-y", "-tt", "-s", "256", "--seccomp-bpf", "--decode-pids=pidns", "-e", `trace=${TRACE_SYSCALLS.join(",")}`,
          "-o", join(dir, "trace"), "podman", "init", id],
        { stdio: "ignore", env: { ...process.env, CONTAINERS_CONF } },
      );
      for (let i = 0; i < 500 && (await pid(id)) === 0; i++) await sleep(20);
    } else {
      await podmanOk(["init", id]);
    }
    const target = await pid(id);
    if (variant === "attach-filtered" || variant === "attach-all") {
      const filter = variant === "attach-filtered" ? ["-e", `trace=${TRACE_SYSCALLS.join(",")}`] : [];
      strace = spawn("strace", ["-ff", "-y", "-tt", "-s", "256", ...filter, "-o", join(dir, "trace"), "-p", String(target)], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      await new Promise<void>((resolve) => {
        let err = "";
        strace!.stderr!.on("data", (c: Buffer) => {
          err += c.toString();
          if (err.includes(`Process ${target} attached`)) resolve();
        });
      });
    }
    const poller = run("nsenter", ["-t", String(target), "-n", "--", process.execPath, "-e", POLLER], { timeoutMs: 90_000 });
    await sleep(300); // let the poller start before the clock does
    const t0 = Date.now();
    await podmanOk(["start", id]);
    const r = await poller;
    if (r.code !== 0) throw new Error(`poller failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { first: number; load: number };
    return { startToFirstMs: out.first - t0, requestsMs: out.load };
  } finally {
    await podman(["rm", "-f", "-t", "0", id]);
    // strace exits once its tracees have; only then is the trace dir safe to remove.
    if (strace && strace.exitCode === null && strace.signalCode === null) {
      const done = new Promise((r) => strace!.once("close", r));
      await Promise.race([done, sleep(10_000)]);
      if (strace.exitCode === null && strace.signalCode === null) {
        strace.kill("SIGINT");
        await Promise.race([done, sleep(2_000)]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pid(id: string): Promise<number> {
  const r = await podman(["container", "inspect", "--format", "{{.State.Pid}}", id]);
  return Number(r.stdout.trim()) || 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function main(runs = Number(process.argv[2] ?? 5)): Promise<Record<Variant, { start: number; requests: number }>> {
  execFileSync(join(import.meta.dirname, "../test-images/build.sh"), { stdio: "inherit", env: { ...process.env, CONTAINERS_CONF } });
  const samples = Object.fromEntries(VARIANTS.map((v) => [v, [] as Sample[]])) as Record<Variant, Sample[]>;
  await runOnce("untraced"); // warm the page cache and podman
  // Interleaved, so drift on a shared machine hits every variant alike.
  for (let i = 0; i < runs; i++) for (const v of VARIANTS) samples[v].push(await runOnce(v));
  const result = {} as Record<Variant, { start: number; requests: number }>;
  for (const v of VARIANTS) {
    result[v] = { start: median(samples[v].map((s) => s.startToFirstMs)), requests: median(samples[v].map((s) => s.requestsMs)) };
  }
  const base = result.untraced;
  console.log(`runs per variant: ${runs}; image ${IMAGE} (${readFileSync("/var/cache/vexxy-test-images/target.digest", "utf8").trim()})`);
  console.log("variant               start→first response (median)   ratio   ${REQUESTS} requests (median)   ratio".replace("${REQUESTS}", String(REQUESTS)));
  for (const v of VARIANTS) {
    const r = result[v];
    console.log(
      `${v.padEnd(22)}${`${r.start} ms`.padStart(12)}${(r.start / base.start).toFixed(2).padStart(24)}${`${r.requests} ms`.padStart(14)}${(r.requests / base.requests).toFixed(2).padStart(23)}`,
    );
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
