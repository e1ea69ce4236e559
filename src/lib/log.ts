/** Structured JSON logs. Never pass secrets, passwords or tokens: fields named like them are redacted. */
const REDACT = /pass(word)?|secret|token|authorization|cookie|signature|api[_-]?key/i;

export function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) clean[k] = REDACT.test(k) ? "[redacted]" : v;
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...clean });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
