/**
 * The Worker's layers, checked in CI (`npm run lint:deps`): routes → services → (ledger | db |
 * queues) → lib. Each rule says why it exists; a violation fails .ci/run.
 */
module.exports = {
  forbidden: [
    {
      name: "runner-uses-the-contract-package",
      severity: "error",
      comment: "The runner shares only @vexxy/contract with the Worker, never the Worker's sources.",
      from: { path: "^sandbox-runner" },
      to: { path: "^src/" },
    },
    { name: "no-cycles", severity: "error", comment: "A cycle makes two modules one; split what they share.", from: { path: "^src" }, to: { circular: true } },
    {
      name: "services-know-no-http",
      severity: "error",
      comment: "Services are verbs pure of HTTP: no routes, no middleware, no Hono.",
      from: { path: "^src/services" },
      to: { path: ["^src/routes", "^src/middleware", "^src/pages", "node_modules/hono", "node_modules/@hono"] },
    },
    {
      name: "routes-call-services",
      severity: "error",
      comment: "Routes validate, call a service verb and shape the response; storage is the services' business.",
      from: { path: "^src/(routes|pages)" },
      to: { path: ["^src/db", "^src/ledger"] },
    },
    {
      name: "db-below-ledger",
      severity: "error",
      comment: "D1 access is a layer below the ledger: the ledger delivers through db/, never the reverse.",
      from: { path: "^src/db" },
      to: { path: "^src/ledger/(durable_object|store|operations|delivery|client)" },
    },
    {
      name: "lib-is-a-leaf",
      severity: "error",
      comment: "lib/ holds pure helpers that import nothing else from src.",
      from: { path: "^src/lib" },
      to: { path: "^src/(?!lib)" },
    },
    {
      name: "lower-layers-serve-services",
      severity: "error",
      comment: "ledger, db and queues are below the services: they never call a service verb.",
      from: { path: "^src/(ledger|db|queues)" },
      to: { path: "^src/services" },
    },
    {
      name: "lower-layers-know-no-routes",
      severity: "error",
      comment: "ledger, db and queues serve the services; they never import routes, pages or middleware.",
      from: { path: "^src/(ledger|db|queues)" },
      to: { path: ["^src/routes", "^src/pages", "^src/middleware"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    // The project's TypeScript (7, native) is not one dependency-cruiser can load; swc parses the sources.
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    // swc (above) cannot parse TSX yet: the server-rendered pages are left out of the cruise.
    exclude: { path: ["^(types|test)/", "\\.tsx$"] },
  },
};
