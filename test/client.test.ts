import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { createPremiumClient } from "../src/client/index.js";
import { DIGEST, newOrg } from "./support/orgs.js";

const fetcher = (exports as unknown as { default: Fetcher }).default;

describe("typed client", () => {
  it("drives the public API end to end with compile-time-checked calls", async () => {
    const org = await newOrg({ tier: "starter" });
    const api = createPremiumClient("http://premium.test", org.token, { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetcher.fetch(input as string, init) });
    const tiers = await api.api.v1.billing.tiers.$get();
    // The document says tiers can answer 5xx too, so the client narrows on the status like every other call.
    if (tiers.status !== 200) throw new Error(`status ${tiers.status}`);
    expect((await tiers.json()).map((t) => t.tier)).toContain("enterprise");
    const sub = await api.api.v1.billing.subscription.$get();
    if (sub.status !== 200) throw new Error(`status ${sub.status}`);
    expect((await sub.json()).tier).toBe("starter");
    const submitted = await api.api.v1.analysis.submit.$post({ json: { image_ref: "nginx:1.25", image_digest: DIGEST, config: { ports: [80], test_timeout: 60 } }, header: {} });
    if (submitted.status !== 201) throw new Error(`status ${submitted.status}`);
    const { job_id } = await submitted.json();
    const status = await api.api.v1.analysis[":job_id"].status.$get({ param: { job_id } });
    if (status.status !== 200) throw new Error(`status ${status.status}`);
    expect((await status.json()).status).toBe("queued");
    const ent = await api.api.v1.billing.entitlements.$get({ query: { enable_fuzzing: "true" } });
    if (ent.status !== 200) throw new Error(`status ${ent.status}`);
    expect((await ent.json()).can_submit).toMatchObject({ allowed: false, error: "FORBIDDEN" });
    const events = await api.api.v1.billing.events.$get({ query: { limit: "10" } });
    expect(events.status).toBe(200);
  });
});
