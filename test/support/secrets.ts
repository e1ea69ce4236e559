/** Development values only (the same kind as .dev.vars.example); tests never see real secrets. */
export const TEST_SECRETS = {
  JWT_SECRET_KEY: "test-jwt-secret-0123456789abcdef0123456789abcdef",
  RUNNER_SECRET: "test-runner-secret-0123456789abcdef0123456789ab",
  // The Worker suite runs mid-rotation of the runner secret: callbacks signed with either verify.
  RUNNER_SECRET_PREVIOUS: "test-previous-runner-secret-0123456789abcdef01",
  OPERATOR_TOKEN: "test-operator-token-0123456789abcdef0123456789",
  SESSION_SECRET: "test-session-secret-0123456789abcdef0123456789",
  STRIPE_SECRET_KEY: "sk_test_vexxy_tests",
  STRIPE_PUBLISHABLE_KEY: "pk_test_vexxy_tests",
  STRIPE_WEBHOOK_SECRET: "whsec_vexxy_tests_0123456789",
  BASE_VEXXY_WEBHOOK_SECRET: "test-webhook-secret-0123456789abcdef012345",
};

/**
 * The Stripe catalog the tests sell (same values as wrangler.toml [vars] for local development) and
 * the prices the fake Stripe API knows.
 */
export const TEST_STRIPE_CONFIG = {
  STRIPE_PRICE_STARTER: "price_starter_monthly",
  STRIPE_PRICE_PROFESSIONAL: "price_professional_monthly",
  STRIPE_PRICE_ENTERPRISE: "price_enterprise_monthly",
  STRIPE_CREDIT_PACKS: JSON.stringify([
    { id: "pack_1000", credits: 1000, price: "price_credits_1000", amount_cents: 10000 },
    { id: "pack_5000", credits: 5000, price: "price_credits_5000", amount_cents: 45000 },
  ]),
  BILLING_RETURN_ORIGINS: "https://vexxy.example.com",
};

export const FAKE_STRIPE_PRICES = [
  { id: "price_starter_monthly", unit_amount: 4900, recurring: true },
  { id: "price_professional_monthly", unit_amount: 19900, recurring: true },
  { id: "price_enterprise_monthly", unit_amount: 99900, recurring: true },
  { id: "price_credits_1000", unit_amount: 10000, recurring: false },
  { id: "price_credits_5000", unit_amount: 45000, recurring: false },
];

/** Where the Worker's Stripe SDK is pointed inside workerd tests (answered by the fake; see vitest.config.ts). */
export const FAKE_STRIPE_BASE = "http://stripe.fake";
