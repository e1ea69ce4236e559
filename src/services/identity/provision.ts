/**
 * The base application owns identity: the first valid token for an organization or user this service
 * has not seen provisions them (organization on the free tier, user linked to it). Idempotent.
 */
import { createDb } from "../../db/client.js";
import { provisionOrganizationAndUser } from "../../db/organizations.js";
import type { Identity } from "./tokens.js";

const known = new Set<string>();
const KNOWN_MAX = 10_000;

export async function provisionIdentity(d1: D1Database, id: Identity): Promise<void> {
  const key = `${id.orgId}/${id.userId}`;
  if (known.has(key)) return;
  await provisionOrganizationAndUser(createDb(d1), id);
  if (known.size >= KNOWN_MAX) known.clear();
  known.add(key);
}
