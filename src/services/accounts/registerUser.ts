import { eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import { ApiError } from "../../errors/api-error.js";
import { hashPassword } from "../identity/passwords.js";
import { isoNow } from "../../lib/time.js";
import { ledgerFor } from "../../ledger/client.js";
import { insertOrganizationWithAdmin } from "../../db/organizations.js";

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
  organization_name: string;
}

export interface RegisteredUser {
  id: string;
  email: string;
  name: string;
  is_admin: boolean;
  organization_id: string;
  organization_name: string;
  created_at: string;
}

function slugify(name: string): string {
  const base = name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80) || "org";
  return `${base}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Creates an organization on the free tier with its creator as admin. A taken email is a 409. */
export async function registerUser({ db, env, input }: { db: Database; env: Env; input: RegisterInput }): Promise<RegisteredUser> {
  const email = input.email.trim().toLowerCase();
  const taken = await db.select({ id: schema.users.id }).from(schema.users).where(eq(schema.users.email, email)).limit(1);
  if (taken.length) throw new ApiError("RESOURCE_CONFLICT", "An account with this email already exists", { field: "email" });
  const now = isoNow();
  const orgId = crypto.randomUUID();
  const userId = crypto.randomUUID();
  const hashed = await hashPassword(input.password);
  try {
    await insertOrganizationWithAdmin(
      db,
      { id: orgId, name: input.organization_name.trim(), slug: slugify(input.organization_name) },
      { id: userId, email, name: input.name.trim(), hashedPassword: hashed },
      now,
    );
  } catch (err) {
    // Two registrations racing for one email: the UNIQUE constraint decides, the loser gets 409.
    if (String(err).includes("UNIQUE")) throw new ApiError("RESOURCE_CONFLICT", "An account with this email already exists", { field: "email" });
    throw err;
  }
  // Open the organization's ledger now: free subscription, first monthly grant, period from today.
  await ledgerFor(env, orgId).getAccount(orgId);
  return { id: userId, email, name: input.name.trim(), is_admin: true, organization_id: orgId, organization_name: input.organization_name.trim(), created_at: now };
}
