/**
 * ReachabilityReport → OpenVEX v0.2.0, in the shape Grype and Trivy match on: the image as a
 * `pkg:oci` product, the vulnerable package as its subcomponent. One statement per
 * (vulnerability, package), because each carries its own evidence in impact/action statements.
 *
 * The 0.2.0 schema forbids extra fields, so confidence and evidence live in the report; the
 * statement keeps the human reason in `status_notes`.
 */
import { randomUUID } from "node:crypto";
import { stripPurl } from "../reachability/purl.js";
import type { Decision, ReachabilityReport } from "../reachability/types.js";
import { ociPurl, parseOciReference } from "./oci-ref.js";

const OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0";

interface OpenVexIdentifiers {
  purl?: string;
  cpe22?: string;
  cpe23?: string;
}

interface OpenVexSubcomponent {
  "@id"?: string;
  identifiers?: OpenVexIdentifiers;
  hashes?: Record<string, string>;
}

interface OpenVexProduct extends OpenVexSubcomponent {
  subcomponents?: OpenVexSubcomponent[];
}

interface OpenVexStatement {
  "@id"?: string;
  vulnerability: { "@id"?: string; name: string; description?: string; aliases?: string[] };
  timestamp?: string;
  products?: OpenVexProduct[];
  status: "not_affected" | "affected" | "fixed" | "under_investigation";
  status_notes?: string;
  justification?: string;
  impact_statement?: string;
  action_statement?: string;
}

export interface OpenVexDocument {
  "@context": typeof OPENVEX_CONTEXT;
  "@id": string;
  author: string;
  role?: string;
  timestamp: string;
  version: number;
  tooling?: string;
  statements: OpenVexStatement[];
}

export interface BuildOpenVexOptions {
  imageRef: string;
  imageDigest: string;
  author: string;
  role?: string;
  idBase: string;
  documentId?: string;
  now?: Date;
  version?: number;
}

const TOOLING = "VEXxy sandbox-runner reachability engine (runtime trace → package usage)";

/**
 * Note: an image with no vulnerability matches yields `statements: []`, which the 0.2.0 schema
 * rejects (minItems 1) — there is nothing to state; callers decide whether to publish it.
 */
export function buildOpenVex(report: ReachabilityReport, opts: BuildOpenVexOptions): OpenVexDocument {
  const ref = parseOciReference(opts.imageRef);
  if (ref.digest && ref.digest !== opts.imageDigest) {
    throw new Error(`image reference digest ${ref.digest} differs from imageDigest ${opts.imageDigest}`);
  }
  const product = {
    // The spec's full form (Trivy matches it) …
    "@id": ociPurl(ref, opts.imageDigest),
    // … and the qualifier-free form, which go-vex (Grype) matches whatever repository_url a
    // scanner derives; the digest alone pins the image.
    identifiers: { purl: ociPurl(ref, opts.imageDigest, true) },
    hashes: { "sha-256": opts.imageDigest.slice("sha256:".length) },
  };
  const statements: OpenVexStatement[] = [];
  const seen = new Set<string>();
  for (const d of report.decisions) {
    const s = statementFor(d, product);
    const key = JSON.stringify(s);
    if (seen.has(key)) continue;
    seen.add(key);
    statements.push(s);
  }
  const base = opts.idBase.replace(/\/+$/, "");
  const doc: OpenVexDocument = {
    "@context": OPENVEX_CONTEXT,
    "@id": `${base}/${opts.documentId ?? randomUUID()}`,
    author: opts.author,
    ...(opts.role ? { role: opts.role } : {}),
    timestamp: (opts.now ?? new Date()).toISOString(),
    version: opts.version ?? 1,
    tooling: TOOLING,
    statements,
  };
  return doc;
}

function statementFor(d: Decision, product: OpenVexProduct): OpenVexStatement {
  const purl = stripPurl(d.package.purl ?? genericPurl(d.package.name, d.package.version));
  const aliases = [...new Set(d.vulnerability.aliases)].filter((a) => a !== d.vulnerability.id);
  const s: OpenVexStatement = {
    vulnerability: { name: d.vulnerability.id, ...(aliases.length > 0 ? { aliases } : {}) },
    products: [{ ...product, subcomponents: [{ "@id": purl, identifiers: { purl } }] }],
    status: d.status,
    status_notes: `${d.reason} Confidence: ${d.confidence}.`,
  };
  if (d.status === "not_affected") {
    if (d.justification) s.justification = d.justification;
    s.impact_statement = d.impact_statement ?? d.reason;
  }
  if (d.status === "affected") s.action_statement = d.action_statement ?? `Upgrade ${d.package.name} to a fixed version.`;
  return s;
}

function genericPurl(name: string, version: string): string {
  return `pkg:generic/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
}
