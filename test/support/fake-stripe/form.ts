/**
 * Stripe's request encoding (application/x-www-form-urlencoded with bracket nesting, as the SDKs send
 * it): `a[b]=1&items[0][price]=p` → `{ a: { b: "1" }, items: [{ price: "p" }] }`. Values stay strings,
 * as Stripe receives them.
 */
export type FormValue = string | FormValue[] | { [k: string]: FormValue };

export function parseStripeForm(body: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.match(/[^[\]]+|\[\]/g) ?? [rawKey];
    let node: any = root;
    path.forEach((segment, i) => {
      const last = i === path.length - 1;
      const key = segment === "[]" ? (node as unknown[]).length : /^\d+$/.test(segment) && Array.isArray(node) ? Number(segment) : segment;
      if (last) {
        node[key] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(path[i + 1]!) || path[i + 1] === "[]";
      node[key] ??= nextIsIndex ? [] : {};
      node = node[key];
    });
  }
  return root;
}
