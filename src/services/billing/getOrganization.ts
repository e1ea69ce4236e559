import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";

/** The organization row, scoped by its id. */
export async function getOrganization({ db, orgId }: { db: Database; orgId: string }) {
  const [org] = await db.select().from(schema.organizations).where(and(eq(schema.organizations.id, orgId))).limit(1);
  return org ?? null;
}
