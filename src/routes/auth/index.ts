/** POST /api/v1/auth/register and /login (spec §9). */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.js";
import { errorResponses, publicSecurity } from "../schemas.js";
import { registerUser } from "../../services/accounts/registerUser.js";
import { loginUser } from "../../services/accounts/loginUser.js";
import { clientAddress } from "../../lib/client-address.js";
import { ApiError } from "../../errors/api-error.js";
import { logAuthFailure } from "../../middleware/auth-log.js";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../services/identity/passwords.js";
import { validationHook } from "../validation.js";

const Email = z.string().trim().email("must be an email address").max(320).openapi({ example: "test@example.com" });

const RegisterBody = z
  .object({
    email: Email,
    password: z
      .string()
      .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
      .max(PASSWORD_MAX_LENGTH)
      .openapi({ example: "testpass123" }),
    name: z.string().trim().min(1).max(255).openapi({ example: "Test User" }),
    organization_name: z.string().trim().min(1).max(255).openapi({ example: "Test Org" }),
  })
  .openapi("RegisterRequest");

const RegisteredUser = z
  .object({
    id: z.string().uuid(),
    email: z.string(),
    name: z.string(),
    is_admin: z.boolean(),
    organization_id: z.string().uuid(),
    organization_name: z.string(),
    created_at: z.string(),
  })
  .openapi("RegisteredUser");

const LoginBody = z.object({ email: Email, password: z.string().min(1).max(PASSWORD_MAX_LENGTH) }).openapi("LoginRequest");
const TokenResponse = z
  .object({ access_token: z.string(), token_type: z.literal("bearer"), expires_in: z.number().int() })
  .openapi("TokenResponse");

const register = createRoute({
  method: "post",
  path: "/register",
  operationId: "register",
  tags: ["Auth"],
  summary: "Create an organization (free tier) and its admin user",
  description:
    "An email that is already registered answers 409. That tells the caller the email exists; it stays, because a " +
    "newcomer needs to know to sign in instead, and registration is a development path (the base application " +
    "provisions users itself). Enumeration through it is bounded by the per-address rate limit on /api/v1/auth/*.",
  security: publicSecurity,
  request: { body: { content: { "application/json": { schema: RegisterBody } }, required: true } },
  responses: {
    201: { content: { "application/json": { schema: RegisteredUser } }, description: "Registered" },
    ...errorResponses(
      { body: true, addressLimited: true },
      { 409: { description: "the email is already registered", message: "An account with this email already exists", details: { field: "email" } } },
    ),
  },
});

const login = createRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  tags: ["Auth"],
  summary: "Exchange email and password for a premium token (same form the base application mints)",
  security: publicSecurity,
  request: { body: { content: { "application/json": { schema: LoginBody } }, required: true } },
  responses: {
    200: { content: { "application/json": { schema: TokenResponse } }, description: "Signed in" },
    ...errorResponses(
      { body: true, addressLimited: true },
      {
        401: { description: "wrong email or password", message: "Invalid email or password", details: null },
        429: "the per-address rate limit, or too many failed sign-ins for this email from this address (`details.quota_type: \"rate_limit\"`); wait `Retry-After` seconds (1 s, doubling, at most 15 min)",
      },
    ),
  },
});

export const authRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(register, async (c) => {
    const user = await registerUser({ db: c.get("db"), env: c.env, input: c.req.valid("json") });
    return c.json(user, 201);
  })
  .openapi(login, async (c) => {
    const { email, password } = c.req.valid("json");
    try {
      return c.json(await loginUser({ db: c.get("db"), config: c.get("config"), email, password, clientAddress: clientAddress(c.req.raw.headers) }), 200);
    } catch (err) {
      // The fingerprint is of the email (which account was tried), never of the password.
      if (err instanceof ApiError) await logAuthFailure(c, "password", err.message, email.trim().toLowerCase());
      throw err;
    }
  });
