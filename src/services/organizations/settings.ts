import { eq, inArray } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import { ApiError } from "../../errors/api-error.js";
import { setDefaultVexPolicy } from "../../db/organizations.js";

import type { VexPolicy } from "../analysis/config.js";

export interface OrganizationSettings {
  default_vex_policy: VexPolicy;
}

/** The organization's settings, scoped by its id (the row exists once its first token was seen). */
export async function getOrganizationSettings({ db, orgId }: { db: Database; orgId: string }): Promise<OrganizationSettings> {
  const [row] = await db.select({ p: schema.organizations.defaultVexPolicy }).from(schema.organizations).where(eq(schema.organizations.id, orgId)).limit(1);
  if (!row) throw new ApiError("RESOURCE_NOT_FOUND", "Organization not found", { organization_id: orgId });
  return { default_vex_policy: row.p };
}

/** Changes the organization's settings; only an organization admin may. */
export async function updateOrganizationSettings({
  db,
  orgId,
  isAdmin,
  input,
}: {
  db: Database;
  orgId: string;
  isAdmin: boolean;
  input: Partial<OrganizationSettings>;
}): Promise<OrganizationSettings> {
  if (!isAdmin) throw new ApiError("FORBIDDEN", "Only an organization admin can change its settings", { required_role: "admin" });
  if (input.default_vex_policy) {
    await setDefaultVexPolicy(db, orgId, input.default_vex_policy);
  }
  return getOrganizationSettings({ db, orgId });
}

/** Default VEX policy per organization, for a batch of jobs being dispatched. */
export async function defaultVexPolicies({ db, orgIds }: { db: Database; orgIds: string[] }): Promise<Map<string, VexPolicy>> {
  if (orgIds.length === 0) return new Map();
  const rows = await db
    .select({ id: schema.organizations.id, p: schema.organizations.defaultVexPolicy })
    .from(schema.organizations)
    .where(inArray(schema.organizations.id, orgIds));
  return new Map(rows.map((r) => [r.id, r.p]));
}
