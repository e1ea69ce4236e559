import { describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { call, expectEnvelope, json } from "./support/http.js";
import { signHs256, tokenFor } from "./support/tokens.js";
import { hashPassword, verifyPassword, PBKDF2_ITERATIONS, PBKDF2_MAX_ITERATIONS } from "../src/services/identity/passwords.js";
import { FREE_LOGIN_FAILURES, loginDelaySeconds } from "../src/services/accounts/loginUser.js";

const uniqueEmail = () => `u-${crypto.randomUUID().slice(0, 12)}@example.com`;
const register = (over: Record<string, unknown> = {}) =>
  call("/api/v1/auth/register", {
    body: { email: uniqueEmail(), password: "testpass123", name: "Test User", organization_name: "Test Org", ...over },
  });

describe("POST /api/v1/auth/register", () => {
  it("creates an admin user and a free organization (201)", async () => {
    const email = uniqueEmail();
    const res = await register({ email });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ email, name: "Test User", is_admin: true, organization_name: "Test Org" });
    const row = await env.DB.prepare("SELECT hashed_password FROM users WHERE email = ?").bind(email).first<{ hashed_password: string }>();
    expect(row!.hashed_password).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row!.hashed_password).not.toContain("testpass123");
  });

  it("normalises email case and refuses a duplicate with 409", async () => {
    const email = uniqueEmail();
    expect((await register({ email })).status).toBe(201);
    const body = await expectEnvelope(await register({ email: email.toUpperCase() }), 409, "RESOURCE_CONFLICT");
    expect(body.details).toEqual({ field: "email" });
  });

  it("names each invalid field", async () => {
    const res = await call("/api/v1/auth/register", { body: { email: "nope", password: "short", name: "" } });
    const body = await expectEnvelope(res, 400, "VALIDATION_ERROR");
    const fields = body.details.fields.map((f: { field: string }) => f.field).sort();
    expect(fields).toEqual(["email", "name", "organization_name", "password"]);
  });

  it("refuses malformed JSON, a wrong content type and an oversized body", async () => {
    await expectEnvelope(await call("/api/v1/auth/register", { body: "{not json" }), 400, "VALIDATION_ERROR");
    await expectEnvelope(
      await call("/api/v1/auth/register", { body: "email=a", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
      415,
      "VALIDATION_ERROR",
    );
    await expectEnvelope(await call("/api/v1/auth/register", { body: { pad: "x".repeat(1_100_000) } }), 413, "VALIDATION_ERROR");
  });
});

describe("POST /api/v1/auth/login", () => {
  it("returns a bearer token of the base application's form that the API accepts", async () => {
    const email = uniqueEmail();
    const reg = await json(await register({ email }));
    const res = await call("/api/v1/auth/login", { body: { email, password: "testpass123" } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.token_type).toBe("bearer");
    expect(body.expires_in).toBe(86400);
    const [header, payload] = body.access_token.split(".").slice(0, 2).map((p: string) => JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header.alg).toBe("HS256");
    expect(payload).toMatchObject({ sub: reg.id, org_id: reg.organization_id, email, is_admin: true });
    expect(payload.exp - payload.iat).toBe(86400);
    const sub = await call("/api/v1/billing/subscription", { token: body.access_token });
    expect(sub.status).toBe(200);
    expect((await json(sub)).organization_id).toBe(reg.organization_id);
  });

  it("answers the same for an unknown email and a wrong password", async () => {
    const email = uniqueEmail();
    await register({ email });
    const a = await expectEnvelope(await call("/api/v1/auth/login", { body: { email, password: "wrong-password" } }), 401, "UNAUTHORIZED");
    const b = await expectEnvelope(await call("/api/v1/auth/login", { body: { email: uniqueEmail(), password: "wrong-password" } }), 401, "UNAUTHORIZED");
    expect(a.message).toBe(b.message);
    expect(a.details).toEqual(b.details);
  });

  it("slows repeated failures from one address for one email with 429 + Retry-After, but never locks the owner out from elsewhere", async () => {
    const email = uniqueEmail();
    await register({ email });
    const from = (ip: string, password: string) => call("/api/v1/auth/login", { body: { email, password }, headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < FREE_LOGIN_FAILURES; i++) {
      await expectEnvelope(await from("203.0.113.7", `wrong-${i}-password`), 401, "UNAUTHORIZED");
    }
    // The stranger's address must now wait, even with the right password, and is told how long.
    const slowed = await from("203.0.113.7", "testpass123");
    const err = await expectEnvelope(slowed, 429, "QUOTA_EXCEEDED");
    expect(err.details).toMatchObject({ quota_type: "rate_limit", limit: "login_failures" });
    expect(Number(slowed.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // The owner, from their own address (IPv4 or IPv6), signs in.
    expect((await from("198.51.100.20", "testpass123")).status).toBe(200);
    expect((await from("2001:db8:aaaa:1::5", "testpass123")).status).toBe(200);
    // An unknown email is throttled the same way: the answers say nothing about which accounts exist.
    const ghost = uniqueEmail();
    for (let i = 0; i < FREE_LOGIN_FAILURES; i++) {
      await expectEnvelope(await call("/api/v1/auth/login", { body: { email: ghost, password: "wrong-password" }, headers: { "CF-Connecting-IP": "203.0.113.7" } }), 401, "UNAUTHORIZED");
    }
    await expectEnvelope(await call("/api/v1/auth/login", { body: { email: ghost, password: "wrong-password" }, headers: { "CF-Connecting-IP": "203.0.113.7" } }), 429, "QUOTA_EXCEEDED");
  });

  it("grows the wait exponentially, capped at 15 minutes", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 13, 40].map(loginDelaySeconds)).toEqual([0, 0, 0, 1, 2, 4, 8, 900, 900]);
  });
});

describe("passwords", () => {
  it("stays within the production runtime's PBKDF2 limit", async () => {
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
    expect(PBKDF2_MAX_ITERATIONS).toBe(100_000);
    await expect(hashPassword("x".repeat(12), 100_001)).rejects.toThrow(/exceeds the Workers limit/);
  });
  it("verifies only the right password and rejects malformed stored hashes", async () => {
    const h = await hashPassword("correct horse", 1000);
    expect(await verifyPassword("correct horse", h)).toBe(true);
    expect(await verifyPassword("correct horsf", h)).toBe(false);
    expect(await verifyPassword("correct horse", "md5$abc")).toBe(false);
    expect(h).not.toBe(await hashPassword("correct horse", 1000)); // per-user random salt
  });
});

describe("tokens minted by the base application", () => {
  it("provision an unseen organization and user on first use", async () => {
    const { token, claims } = await tokenFor({ is_admin: true });
    const res = await call("/api/v1/billing/subscription", { token });
    expect(res.status).toBe(200);
    const org = await env.DB.prepare("SELECT id FROM organizations WHERE id = ?").bind(claims.org_id).first();
    const user = await env.DB.prepare("SELECT organization_id, is_admin FROM users WHERE id = ?").bind(claims.sub).first<{ organization_id: string; is_admin: number }>();
    expect(org).not.toBeNull();
    expect(user).toMatchObject({ organization_id: claims.org_id, is_admin: 1 });
  });
  it("accept a token within the clock-skew allowance", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signHs256({ sub: crypto.randomUUID(), org_id: crypto.randomUUID(), email: "skew@example.com", is_admin: false, exp: now - 10, iat: now - 100 });
    expect((await call("/api/v1/billing/subscription", { token })).status).toBe(200);
  });
  it("refuse a token issued in the future beyond the skew, and accept one within it", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = (iat: number) => ({ sub: crypto.randomUUID(), org_id: crypto.randomUUID(), email: "future@example.com", is_admin: false, exp: iat + 3600, iat });
    const future = await call("/api/v1/billing/subscription", { token: await signHs256(claims(now + 3600)) });
    expect(future.status).toBe(401);
    expect((await future.json<{ message: string }>()).message).toMatch(/"iat" is in the future/);
    expect((await call("/api/v1/billing/subscription", { token: await signHs256(claims(now + 20)) })).status).toBe(200);
  });
});

describe("verified-token cache", () => {
  it("still refuses a cached token once it has expired", async () => {
    const { verifyPremiumToken, CLOCK_SKEW_SECONDS } = await import("../src/services/identity/tokens.js");
    const { loadConfig } = await import("../src/env.js");
    const config = loadConfig(env);
    const now = Math.floor(Date.now() / 1000);
    const token = await signHs256({ sub: crypto.randomUUID(), org_id: crypto.randomUUID(), email: "cache@example.com", is_admin: false, exp: now + 60, iat: now });
    expect((await verifyPremiumToken(token, config)).email).toBe("cache@example.com");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime((now + 60 + CLOCK_SKEW_SECONDS + 1) * 1000);
      await expect(verifyPremiumToken(token, config)).rejects.toMatchObject({ code: "UNAUTHORIZED", message: "Token has expired" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("verifies nothing from the cache under another secret (rotation)", async () => {
    const { verifyPremiumToken } = await import("../src/services/identity/tokens.js");
    const { loadConfig } = await import("../src/env.js");
    const config = loadConfig(env);
    const now = Math.floor(Date.now() / 1000);
    const token = await signHs256({ sub: crypto.randomUUID(), org_id: crypto.randomUUID(), email: "rotate@example.com", is_admin: false, exp: now + 600, iat: now });
    await verifyPremiumToken(token, config);
    const rotated = { ...config, JWT_SECRET_KEY: "rotated-secret-0123456789abcdef0123456789" };
    await expect(verifyPremiumToken(token, rotated)).rejects.toMatchObject({ code: "UNAUTHORIZED", message: "Token signature is invalid" });
  });
});

describe("secret rotation (JWT_SECRET_KEY_PREVIOUS)", () => {
  it("verifies tokens signed with the previous secret during the window, signs new ones with the current, and nothing else", async () => {
    const { verifyPremiumToken, mintPremiumToken } = await import("../src/services/identity/tokens.js");
    const { loadConfig } = await import("../src/env.js");
    const before = loadConfig(env);
    const during = { ...before, JWT_SECRET_KEY: "next-secret-0123456789abcdef0123456789abcdef", JWT_SECRET_KEY_PREVIOUS: before.JWT_SECRET_KEY };
    const after = { ...during, JWT_SECRET_KEY_PREVIOUS: undefined };
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: crypto.randomUUID(), org_id: crypto.randomUUID(), email: "rotation@example.com", is_admin: false, exp: now + 600, iat: now };
    const old = await signHs256(claims);
    expect((await verifyPremiumToken(old, during)).email).toBe("rotation@example.com");
    const fresh = await mintPremiumToken({ userId: claims.sub, orgId: claims.org_id, email: claims.email, isAdmin: false }, during);
    expect((await verifyPremiumToken(fresh, after)).email).toBe("rotation@example.com"); // signed with the current secret
    await expect(verifyPremiumToken(old, after)).rejects.toMatchObject({ code: "UNAUTHORIZED", message: "Token signature is invalid" });
    const stranger = await signHs256(claims, "some-other-secret-0123456789abcdef0123456789");
    await expect(verifyPremiumToken(stranger, during)).rejects.toMatchObject({ code: "UNAUTHORIZED", message: "Token signature is invalid" });
  });
});

describe("RS256 configuration", () => {
  it("verifies RS256 tokens with the configured public key and refuses HS256 tokens (no algorithm confusion)", async () => {
    const { verifyPremiumToken } = await import("../src/services/identity/tokens.js");
    const { SignJWT, exportSPKI, generateKeyPair } = await import("jose");
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const config = { JWT_ALGORITHM: "RS256", JWT_PUBLIC_KEY: pem, JWT_SECRET_KEY: pem } as never;
    const now = Math.floor(Date.now() / 1000);
    const claims = { org_id: crypto.randomUUID(), email: "rs@example.com", is_admin: false };
    const good = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).setSubject(crypto.randomUUID()).setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
    expect((await verifyPremiumToken(good, config)).email).toBe("rs@example.com");
    // An attacker HMAC-signing with the public key as the secret must not get in.
    const forged = await signHs256({ sub: crypto.randomUUID(), ...claims, exp: now + 60, iat: now }, pem);
    await expect(verifyPremiumToken(forged, config)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("authentication-failure logs", () => {
  it("write one JSON line per refused credential with request id, route, address, reason and a fingerprint, never the credential", async () => {
    const { sha256Hex } = await import("../src/lib/hash.js");
    const lines: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const now = Math.floor(Date.now() / 1000);
      const forged = await signHs256({ sub: crypto.randomUUID(), org_id: crypto.randomUUID(), email: "log@example.com", is_admin: false, exp: now + 60, iat: now }, "not-the-secret-0123456789abcdef0123456789");
      const res = await call("/api/v1/billing/subscription", { token: forged, headers: { "CF-Connecting-IP": "203.0.113.50" } });
      expect(res.status).toBe(401);
      await call("/internal/v1/ops/organizations/x/ledger", { headers: { Authorization: "Bearer wrong-operator-token", "CF-Connecting-IP": "203.0.113.51" } });
      const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "authentication failed");
      expect(failures[0]).toMatchObject({
        level: "warn",
        route: "GET /api/v1/billing/subscription",
        client_address: "203.0.113.50",
        kind: "bearer",
        reason: "Token signature is invalid",
        fingerprint: (await sha256Hex(forged)).slice(0, 16),
      });
      expect(failures[0].request_id).toEqual(res.headers.get("X-Request-ID"));
      expect(failures[1]).toMatchObject({ kind: "operator", client_address: "203.0.113.51", fingerprint: (await sha256Hex("wrong-operator-token")).slice(0, 16) });
      for (const l of lines) {
        expect(l).not.toContain(forged);
        expect(l).not.toContain("wrong-operator-token");
      }
    } finally {
      spy.mockRestore();
    }
  });
});
