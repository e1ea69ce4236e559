/**
 * The client's address as Cloudflare reports it (CF-Connecting-IP; X-Forwarded-For is never read, a
 * client can write it). An IPv6 address counts as its /64, which one subscriber usually holds whole.
 * Local development has no such header: every request is then "unknown".
 */
export function clientAddress(headers: Headers): string {
  const ip = headers.get("CF-Connecting-IP")?.trim();
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(":")}::/64`;
}
