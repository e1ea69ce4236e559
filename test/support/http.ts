import { exports } from "cloudflare:workers";

/** Sends a request through the Worker's real fetch handler (all middleware, real bindings). */
export async function call(
  path: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  // Each call comes from its own address unless the test names one: the per-address rate limit
  // (spec §12) would otherwise count the whole suite as one client.
  const headers: Record<string, string> = { "CF-Connecting-IP": randomAddress(), ...(init.headers ?? {}) };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["Content-Type"] ??= "application/json";
  }
  return (exports as unknown as { default: Fetcher }).default.fetch(`http://premium.test${path}`, {
    method: init.method ?? (body !== undefined ? "POST" : "GET"),
    headers,
    body,
  });
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts the spec's error envelope and returns it. */
export async function expectEnvelope(res: Response, status: number, code: string) {
  const body = await json(res);
  if (res.status !== status || body.error !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  }
  const keys = Object.keys(body).sort().join(",");
  if (keys !== "details,error,message,timestamp") throw new Error(`envelope keys were ${keys}`);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(body.timestamp)) throw new Error(`bad timestamp ${body.timestamp}`);
  if (typeof body.message !== "string" || !body.message) throw new Error("empty message");
  return body as { error: string; message: string; details: any; timestamp: string };
}

/** A random documentation-range (TEST-NET) address, as a distinct client. */
export function randomAddress(): string {
  const r = crypto.getRandomValues(new Uint8Array(2));
  return `198.18.${r[0]}.${r[1]}`;
}
