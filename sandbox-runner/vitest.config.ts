import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Sandbox tests drive real podman containers; run files one at a time on this 2-core machine.
    fileParallelism: false,
  },
});
