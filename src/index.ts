/** The Worker: HTTP (Hono), Queue consumers and the cron sweep; re-exports the Durable Object classes. */
import { buildApp } from "./app.js";

export { OrgLedger } from "./ledger/durable_object.js";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
