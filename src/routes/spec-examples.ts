/**
 * The integration spec's JSON examples (BILLING_API_INTEGRATION_SPEC.md §1–§3), copied verbatim: the
 * base application is written against them, so the OpenAPI document shows them and the tests hold
 * responses to their shape (test/support/spec-shapes.ts).
 *
 * Where the spec elides a value (`"sha256:abc123..."`, `"statements": [...]`) or leaves out a field
 * this API adds, the document's example completes it (see `documentExamples` below) so that every
 * example validates against its schema; the spec's own values are kept.
 */

export const SPEC_SUBSCRIPTION = {
  id: "550e8400-e29b-41d4-a716-446655440000",
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  tier: "professional",
  status: "active",
  monthly_analysis_limit: 500,
  monthly_credit_limit: 5000,
  current_period_analyses: 47,
  current_period_credits_used: 523,
  current_period_start: "2025-11-01T00:00:00Z",
  current_period_end: "2025-12-01T00:00:00Z",
  trial_end: null,
  cancel_at_period_end: false,
  created_at: "2025-10-01T14:30:00Z",
};

export const SPEC_CREDITS = { organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", credit_balance: 4477, organization_name: "Acme Corp" };

export const SPEC_USAGE = {
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  current_period_analyses: 47,
  current_period_credits_used: 523,
  monthly_analysis_limit: 500,
  monthly_credit_limit: 5000,
  current_period_start: "2025-11-01T00:00:00Z",
  current_period_end: "2025-12-01T00:00:00Z",
  utilization_percent: 10.46,
};

export const SPEC_EVENT = {
  id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  event_type: "analysis_completed",
  description: "Analysis job abc-123 completed with cost 15 credits",
  analysis_job_id: "abc-123...",
  credits_amount: -15,
  balance_after: 4477,
  created_at: "2025-11-17T10:30:00Z",
};

const SPEC_CREDIT_EVENT = {
  // The spec's second event id is not a UUID ("8d0e7680-8536-41ef-955c-f18gd2g01bf8"); kept as written.
  id: "8d0e7680-8536-41ef-955c-f18gd2g01bf8",
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  event_type: "credit_purchased",
  description: "Purchased 1000 credits for $100.00",
  analysis_job_id: null,
  credits_amount: 1000,
  balance_after: 4492,
  created_at: "2025-11-16T08:15:00Z",
};

export const SPEC_TIERS = [
  { tier: "free", monthly_analysis_limit: 10, monthly_credit_limit: 100, priority: 0, features: ["basic_analysis", "vex_generation"] },
  { tier: "starter", monthly_analysis_limit: 100, monthly_credit_limit: 1000, priority: 1, features: ["basic_analysis", "vex_generation", "reachability_analysis"] },
  {
    tier: "professional",
    monthly_analysis_limit: 500,
    monthly_credit_limit: 5000,
    priority: 2,
    features: ["basic_analysis", "vex_generation", "reachability_analysis", "security_fuzzing", "priority_support"],
  },
  {
    tier: "enterprise",
    monthly_analysis_limit: null,
    monthly_credit_limit: null,
    priority: 3,
    features: ["basic_analysis", "vex_generation", "reachability_analysis", "security_fuzzing", "priority_support", "dedicated_support", "custom_integrations"],
  },
];

const SPEC_SUBMIT_REQUEST = {
  image_ref: "nginx:1.25",
  image_digest: "sha256:abc123...",
  sbom_id: "550e8400-e29b-41d4-a716-446655440000",
  config: {
    test_script: "curl http://localhost:80",
    test_timeout: 300,
    enable_fuzzing: true,
    enable_profiling: true,
    enable_code_coverage: false,
    ports: [80, 443],
    environment: { ENV_VAR: "value" },
  },
};

const SPEC_SUBMIT_RESPONSE = {
  job_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  status: "queued",
  image_ref: "nginx:1.25",
  image_digest: "sha256:abc123...",
  estimated_duration_minutes: 10,
  created_at: "2025-11-17T10:00:00Z",
};

const SPEC_STATUS = {
  job_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  status: "running",
  progress_percent: 45,
  current_phase: "Running OWASP ZAP security scan",
  created_at: "2025-11-17T10:00:00Z",
  started_at: "2025-11-17T10:00:15Z",
  estimated_completion: "2025-11-17T10:10:00Z",
};

/** §2.3 with its elisions (`[...]`, `{...}`) as the empty value of the same type. */
const SPEC_RESULTS = {
  job_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  status: "complete",
  image_ref: "nginx:1.25",
  image_digest: "sha256:abc123...",
  vex_document: { "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://vexxy.example.com/vex/...", author: "VEXxy Premium Analysis", statements: [] as unknown[] },
  execution_profile: {},
  reachability_results: {},
  security_findings: { total_alerts: 3, high_risk: 0, medium_risk: 2, low_risk: 1 },
  cost_credits: 18,
  completed_at: "2025-11-17T10:09:47Z",
};

export const SPEC_ERROR_EXAMPLE = {
  error: "QUOTA_EXCEEDED",
  message: "Monthly analysis limit reached (500/500)",
  details: { quota_type: "monthly_analyses", limit: 500, current: 500 },
  timestamp: "2025-11-17T10:00:00Z",
};

/** The spec's digest placeholder, completed to a digest the API accepts. */
const DIGEST = "sha256:abc1230000000000000000000000000000000000000000000000000000000000";

/** The examples the OpenAPI document shows: the spec's, completed where it elides (see the header). */
export const documentExamples = {
  subscription: { ...SPEC_SUBSCRIPTION, cancel_at: null, pending_tier: null, pending_tier_at: null, features: SPEC_TIERS[2]!.features, credit_balance: 4477 },
  credits: { ...SPEC_CREDITS, plan_grant_remaining: 4477, purchased_credits: 0, held_credits: 0, available_credits: 4477 },
  usage: SPEC_USAGE,
  events: [SPEC_EVENT, SPEC_CREDIT_EVENT].map((e) => ({
    ...e,
    id: e.id.replace("f18gd2g01bf8", "f18ad2a01bf8"),
    analysis_job_id: e.analysis_job_id && "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    grant_amount: e.credits_amount < 0 ? e.credits_amount : 0,
    purchased_amount: e.credits_amount > 0 ? e.credits_amount : 0,
    held_amount: 0,
    stripe_event_id: e.event_type === "credit_purchased" ? "evt_1QExample" : null,
  })),
  tiers: SPEC_TIERS,
  submitRequest: { ...SPEC_SUBMIT_REQUEST, image_digest: DIGEST },
  submitResponse: { ...SPEC_SUBMIT_RESPONSE, image_digest: DIGEST, max_cost_credits: 18 },
  status: {
    ...SPEC_STATUS,
    current_phase: "Running OWASP ZAP security scan",
    phase: "security_scan",
    completed_at: null,
    image_ref: "nginx:1.25",
    image_digest: DIGEST,
    error_message: null,
    error_code: null,
  },
  results: { ...SPEC_RESULTS, image_digest: DIGEST, error_message: null },
  /** Not in the spec (§4 leaves feature flags to the base application); the spec's professional organization at its quota. */
  entitlements: {
    organization_id: SPEC_SUBSCRIPTION.organization_id,
    tier: "professional",
    status: "active",
    features: SPEC_TIERS[2]!.features,
    premium_analysis_enabled: true,
    can_submit: {
      allowed: false,
      reason: SPEC_ERROR_EXAMPLE.message,
      error: "QUOTA_EXCEEDED",
      details: SPEC_ERROR_EXAMPLE.details,
      retry_after_seconds: 1_209_600,
      max_cost_credits: null,
    },
    remaining: { analyses: 0, credits: 4477 },
    current_period_end: SPEC_SUBSCRIPTION.current_period_end,
    cancel_at_period_end: false,
    upgrade_url: "https://premium.vexxy.dev/billing/subscribe?return_to=https%3A%2F%2Fapp.vexxy.dev%2Fsettings%2Fbilling",
  },
};
