/** Runs after every scenario: the Role grants each API call the driver made, and nothing more. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALL_CALLS, NS } from "../harness.js";

const ROLE = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../deploy/kubernetes/base/role.yaml");

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe("deploy/kubernetes Role", () => {
  const role = parse(readFileSync(ROLE, "utf8")) as { metadata: { namespace: string }; rules: Rule[] };
  const grants = role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))));
  const calls = () => ALL_CALLS.map((c) => `${c.verb} ${c.group}/${c.resource}${c.subresource ? `/${c.subresource}` : ""}`);

  it("the suite exercised the driver", () => {
    expect(ALL_CALLS.length).toBeGreaterThan(50);
  });

  it("is in the sandbox namespace, where every call went", () => {
    expect(role.metadata.namespace).toBe("vexxy-sandbox");
    expect(new Set(ALL_CALLS.map((c) => c.namespace))).toEqual(new Set([NS]));
  });

  it("grants every call the driver made", () => {
    const missing = [...new Set(calls())].filter((c) => !grants.includes(c));
    expect(missing).toEqual([]);
  });

  it("grants nothing the driver did not use", () => {
    const used = new Set(calls());
    expect(grants.filter((g) => !used.has(g))).toEqual([]);
  });
});
