// The node-deps test service (Debian's nodejs). Its npm dependencies, from node_modules/:
//   ms           required at start (below)
//   escape-html  required lazily, only inside the /render handler (the test script calls /render)
//   is-number, kind-of   installed (package.json lists them) but never required anywhere
"use strict";
const http = require("http");
const ms = require("ms");

const PORT = Number(process.env.PORT || 3000);
const cacheSeconds = Math.round(ms("2 days") / 1000);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  let status = 200;
  let body;
  if (url.pathname === "/health") {
    body = JSON.stringify({ service: "node-deps", ok: true });
  } else if (url.pathname === "/render") {
    // Lazy: escape-html is loaded the first time this route runs, not at start.
    const escapeHtml = require("escape-html");
    body = `<p>${escapeHtml(url.searchParams.get("text") || "")}</p>`;
  } else {
    status = 404;
    body = JSON.stringify({ error: "not found" });
  }
  res.writeHead(status, { "Content-Type": "text/plain", "Cache-Control": `max-age=${cacheSeconds}` });
  res.end(body + "\n");
});

// PID 1 in a PID namespace ignores SIGTERM unless it installs a handler.
process.on("SIGTERM", () => process.exit(0));
server.listen(PORT, "0.0.0.0", () => console.log(`listening on ${PORT}`));
