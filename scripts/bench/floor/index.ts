/**
 * The bench's floor: GET /write?object=N does one SQLite transaction (an UPDATE and an INSERT, as an
 * admission's account update and entry) in Durable Object N and answers its counter; /health is the
 * trivial route. See scripts/bench/worker.mjs.
 */
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, body TEXT NOT NULL)");
    this.sql.exec("INSERT OR IGNORE INTO counter VALUES (1, 0)");
  }

  async write(body: string): Promise<number> {
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE counter SET n = n + 1 WHERE id = 1");
      this.sql.exec("INSERT INTO entries (id, body) VALUES (?, ?)", crypto.randomUUID(), body);
      return this.sql.exec<{ n: number }>("SELECT n FROM counter").one().n;
    });
  }
}

export default {
  async fetch(req: Request, env: { COUNTER: DurableObjectNamespace<Counter> }): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    const ns = env.COUNTER;
    const n = await ns.get(ns.idFromName(url.searchParams.get("object") ?? "0")).write("x".repeat(200));
    return Response.json({ n });
  },
};
