/**
 * OWASP ZAP traditional-json report (`-J report.json`, or the automation framework's
 * "traditional-json" template): `site[].alerts[]`, numeric fields as strings ("riskcode": "0"–"3").
 * Counts are per alert (one alert type on one site), as ZAP's own summary counts them.
 */

type ZapRisk = "Informational" | "Low" | "Medium" | "High";

interface ZapInstance {
  uri: string;
  method: string;
  param?: string;
  evidence?: string;
}

interface ZapAlert {
  name: string;
  risk: ZapRisk;
  riskcode: number;
  confidence: string;
  cweid: number | null;
  wascid: number | null;
  pluginid: string;
  count: number;
  instances: ZapInstance[];
  solution?: string;
  reference?: string;
}

export interface ZapSummary {
  total_alerts: number;
  high_risk: number;
  medium_risk: number;
  low_risk: number;
  informational: number;
  alerts: ZapAlert[];
}

export class ZapReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZapReportError";
  }
}

const RISKS: ZapRisk[] = ["Informational", "Low", "Medium", "High"];
const CONFIDENCES = ["False Positive", "Low", "Medium", "High", "Confirmed"];
const MAX_INSTANCES = 10;

export function parseZapReport(doc: unknown): ZapSummary {
  if (!isRecord(doc) || !Array.isArray(doc.site)) {
    throw new ZapReportError("not a ZAP traditional-json report (expected an object with site[])");
  }
  const summary: ZapSummary = { total_alerts: 0, high_risk: 0, medium_risk: 0, low_risk: 0, informational: 0, alerts: [] };
  for (const site of doc.site) {
    if (!isRecord(site) || !Array.isArray(site.alerts)) continue;
    for (const a of site.alerts) {
      if (!isRecord(a)) continue;
      const riskcode = int(a.riskcode);
      if (riskcode === null || riskcode < 0 || riskcode > 3) continue;
      const instances = Array.isArray(a.instances) ? a.instances.filter(isRecord) : [];
      const alert: ZapAlert = {
        name: text(a.name) ?? text(a.alert) ?? `plugin ${text(a.pluginid) ?? "?"}`,
        risk: RISKS[riskcode]!,
        riskcode,
        confidence: CONFIDENCES[int(a.confidence) ?? -1] ?? text(a.confidence) ?? "Unknown",
        cweid: positive(a.cweid),
        wascid: positive(a.wascid),
        pluginid: text(a.pluginid) ?? "",
        count: int(a.count) ?? instances.length,
        instances: instances.slice(0, MAX_INSTANCES).map(instance),
        ...(text(a.solution) ? { solution: stripHtml(text(a.solution)!) } : {}),
        ...(text(a.reference) ? { reference: stripHtml(text(a.reference)!) } : {}),
      };
      summary.alerts.push(alert);
      summary.total_alerts++;
      if (riskcode === 3) summary.high_risk++;
      else if (riskcode === 2) summary.medium_risk++;
      else if (riskcode === 1) summary.low_risk++;
      else summary.informational++;
    }
  }
  summary.alerts.sort((x, y) => y.riskcode - x.riskcode);
  return summary;
}

function instance(i: Record<string, unknown>): ZapInstance {
  return {
    uri: text(i.uri) ?? "",
    method: text(i.method) ?? "",
    ...(text(i.param) ? { param: text(i.param) } : {}),
    ...(text(i.evidence) ? { evidence: text(i.evidence)!.slice(0, 500) } : {}),
  };
}

/** ZAP wraps solution/reference text in <p> tags; keep the text, one paragraph per line. */
function stripHtml(s: string): string {
  return s
    .replace(/<\/p>\s*<p>/g, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .trim();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  if (typeof v === "number") return String(v);
  return typeof v === "string" && v !== "" ? v : undefined;
}

function int(v: unknown): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : null;
}

/** ZAP writes "-1" or "0" when an alert has no CWE/WASC id. */
function positive(v: unknown): number | null {
  const n = int(v);
  return n !== null && n > 0 ? n : null;
}
