import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.js";

export type Database = ReturnType<typeof createDb>;

const instances = new WeakMap<D1Database, ReturnType<typeof make>>();
const make = (d1: D1Database) => drizzle(d1, { schema });

/** The only way the service talks to D1 (one drizzle instance per binding: building one walks the schema). */
export function createDb(d1: D1Database) {
  let db = instances.get(d1);
  if (!db) {
    db = make(d1);
    instances.set(d1, db);
  }
  return db;
}

export { schema };

/**
 * The SELECT that turns one bound JSON parameter — an array of rows, each an array of values in
 * `columns` order — into rows for an INSERT: one statement for any number of rows, where D1 binds
 * at most 100 parameters per statement.
 */
export function jsonRowsSelect(columns: readonly string[]): string {
  return `SELECT ${columns.map((_, i) => `value ->> ${i}`).join(", ")} FROM json_each(?) WHERE true`;
}
