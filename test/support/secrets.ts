/** Development values only (the same kind as .dev.vars.example); tests never see real secrets. */
export const TEST_SECRETS = {
  JWT_SECRET_KEY: "test-jwt-secret-0123456789abcdef0123456789abcdef",
  RUNNER_SECRET: "test-runner-secret-0123456789abcdef0123456789ab",
  OPERATOR_TOKEN: "test-operator-token-0123456789abcdef0123456789",
  SESSION_SECRET: "test-session-secret-0123456789abcdef0123456789",
  STRIPE_SECRET_KEY: "sk_test_vexxy_tests",
  STRIPE_PUBLISHABLE_KEY: "pk_test_vexxy_tests",
  STRIPE_WEBHOOK_SECRET: "whsec_vexxy_tests_0123456789",
  BASE_VEXXY_WEBHOOK_SECRET: "test-webhook-secret-0123456789abcdef012345",
};
