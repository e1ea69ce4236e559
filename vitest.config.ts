import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { Response as MiniflareResponse } from "miniflare";
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { FAKE_STRIPE_BASE, FAKE_STRIPE_PRICES, TEST_SECRETS, TEST_STRIPE_CONFIG } from "./test/support/secrets.js";
import { createFakeStripe } from "./test/support/fake-stripe/index.js";

// The one fake Stripe API (test/support/fake-stripe), answering every outbound request to
// FAKE_STRIPE_BASE made inside workerd — the Worker's Stripe SDK and the tests' control calls alike.
const fakeStripe = createFakeStripe({ prices: FAKE_STRIPE_PRICES });
const fakeStripeHost = new URL(FAKE_STRIPE_BASE).host;

// wrangler.toml's [[ratelimits]], for the test that the Worker's headers state the configured numbers.
const WRANGLER_RATELIMITS = Object.fromEntries(
  [...readFileSync("wrangler.toml", "utf8").matchAll(/name = "(\w+)"\s*\nnamespace_id = "\d+"\s*\nsimple = \{ limit = (\d+), period = (\d+) \}/g)].map((m) => [
    m[1],
    { limit: Number(m[2]), period: Number(m[3]) },
  ]),
);

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...TEST_SECRETS,
          ...TEST_STRIPE_CONFIG,
          STRIPE_API_BASE: FAKE_STRIPE_BASE,
          ENVIRONMENT: "test",
          RUNNER_URL: "http://127.0.0.1:9",
          // As development sets it (locally built images), plus one private registry an operator trusts.
          RUNNER_ALLOWED_REGISTRIES: "localhost, 10.0.0.5:5000",
          TEST_WRANGLER_RATELIMITS: JSON.stringify(WRANGLER_RATELIMITS),
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
        outboundService: async (request: Request) => {
          // RUNNER_URL (port 9) has no runner in the Worker suite: answer as an unavailable runner
          // after reading the body (a refused connection would leave a 100-job dispatch body unread).
          if (new URL(request.url).port === "9") {
            await request.arrayBuffer();
            return new MiniflareResponse("no sandbox-runner in the Worker test suite", { status: 503 });
          }
          if (new URL(request.url).host !== fakeStripeHost) return fetch(request);
          const res = await fakeStripe.handle(request);
          return new MiniflareResponse(await res.arrayBuffer(), { status: res.status, headers: [...res.headers] });
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
    silent: "passed-only",
  },
}));
