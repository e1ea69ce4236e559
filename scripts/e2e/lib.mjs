// What the end-to-end scripts share: calls to the public API of the running stack, and checks that
// print one line each and count failures.

export const base = (process.env.BASE_URL ?? "http://localhost:8001").replace(/\/$/, "");

/** One API call: status, the body as text and, when it is JSON, parsed. */
export async function api(method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

/** check(name, cond, detail) prints ok/FAIL and returns cond; done(label) prints the verdict and exits. */
export function checks() {
  let failures = 0;
  const check = (name, cond, detail = "") => {
    console.log(`${cond ? "ok  " : "FAIL"} ${name}${!cond && detail ? ` — ${detail}` : ""}`);
    if (!cond) failures++;
    return cond;
  };
  const done = (label) => {
    console.log(`\n${label}: ${failures ? "FAILED" : "passed"} (${failures} failure${failures === 1 ? "" : "s"})`);
    process.exit(failures ? 1 : 0);
  };
  return { check, done };
}
