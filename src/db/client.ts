import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.js";

export type Database = ReturnType<typeof createDb>;

/** The only way the service talks to D1. */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

export { schema };
