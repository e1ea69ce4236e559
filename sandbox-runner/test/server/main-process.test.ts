/** The real entry point refuses to start on bad configuration, naming what is wrong. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));

describe("src/main.ts", () => {
  it("exits 2 and names RUNNER_SECRET and RUNNER_DRIVER when they are wrong", () => {
    const env = { PATH: process.env.PATH ?? "", RUNNER_SECRET: "too-short", RUNNER_DRIVER: "docker" };
    const r = spawnSync(tsx, [main], { env, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("invalid runner configuration");
    expect(r.stderr).toContain("RUNNER_SECRET: RUNNER_SECRET must be at least 32 characters");
    expect(r.stderr).toContain("RUNNER_DRIVER");
  });
});
