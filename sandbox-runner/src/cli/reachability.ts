/**
 * reachability CLI: the same engine the runner uses, on files.
 *
 *   npm run reachability -- --sbom sbom.json --vulns grype.json \
 *     [--trace trace.json | --kubescape-profile profile.json] --image nginx:1.25@sha256:<hex> \
 *     [--image-root DIR | --image-layout DIR[:TAG]] [--healthy --exercised] [--report] \
 *     [--policy standard|strict] [--no-verdicts --tier starter]
 *
 * With the image (an unpacked root filesystem, or an OCI layout), the engine reads the image's own
 * package databases, paths, links, ELF interpreters and #! lines, as the runner does; without it,
 * it falls back conservatively and says so on stderr.
 * stdout: the OpenVEX document, or with --report `{ "openvex": …, "report": … }`.
 * stderr: what could not be used. Exit 2 on bad usage or input, 1 on an unexpected failure.
 */
import { readFileSync, statSync } from "node:fs";
import { unpackOciLayout, OciLayoutError } from "../image/oci-layout.js";
import { readImageRoot, type ImageFilesystemSnapshot } from "../image/root-fs.js";
import { parseArgs } from "node:util";
import { readKubescapeProfile } from "../trace/kubescape.js";
import type { RuntimeTrace } from "../trace/types.js";
import {
  analyzeReachability,
  InputFormatError,
  inventoryFromImageFiles,
  loadInventory,
  loadVulnerabilities,
  mergeInventories,
  type VexPolicy,
} from "../reachability/index.js";
import { buildOpenVex } from "../vex/openvex.js";
import { OciReferenceError, parseOciReference } from "../vex/oci-ref.js";
import { parseRuntimeTrace } from "./trace-file.js";

const USAGE = `usage: reachability --sbom FILE [--sbom FILE…] --vulns FILE [--vulns FILE…]
                    [--trace FILE | --kubescape-profile FILE] --image REF@sha256:<hex> [--digest sha256:<hex>]
                    [--image-root DIR | --image-layout DIR[:TAG]] [--policy standard|strict]
                    [--healthy] [--exercised] [--health-note TEXT…] [--report]
                    [--no-verdicts] [--tier NAME] [--author TEXT] [--role TEXT] [--id-base URL] [--document-id ID]`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs({
      args: argv,
      options: {
        sbom: { type: "string", multiple: true },
        vulns: { type: "string", multiple: true },
        trace: { type: "string" },
        "kubescape-profile": { type: "string" },
        image: { type: "string" },
        digest: { type: "string" },
        report: { type: "boolean", default: false },
        healthy: { type: "boolean", default: false },
        exercised: { type: "boolean", default: false },
        "health-note": { type: "string", multiple: true },
        "no-verdicts": { type: "boolean", default: false },
        tier: { type: "string", default: "starter" },
        author: { type: "string", default: "VEXxy sandbox-runner" },
        role: { type: "string", default: "Runtime reachability analysis" },
        "id-base": { type: "string", default: "https://vexxy.example.com/vex" },
        "document-id": { type: "string" },
        "image-root": { type: "string" },
        "image-layout": { type: "string" },
        policy: { type: "string", default: "standard" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await run(opts);
  } catch (err) {
    if (err instanceof UsageError || err instanceof InputFormatError || err instanceof OciReferenceError || err instanceof OciLayoutError) {
      return fail(err.message, 2);
    }
    return fail(`unexpected failure: ${(err as Error).stack ?? String(err)}`, 1);
  }
}

type Opts = {
  sbom?: string[];
  vulns?: string[];
  trace?: string;
  "kubescape-profile"?: string;
  image?: string;
  digest?: string;
  report: boolean;
  healthy: boolean;
  exercised: boolean;
  "health-note"?: string[];
  "no-verdicts": boolean;
  tier: string;
  author: string;
  role: string;
  "id-base": string;
  "document-id"?: string;
  "image-root"?: string;
  "image-layout"?: string;
  policy: string;
};

async function run(o: Opts): Promise<number> {
  if (!o.sbom?.length) throw new UsageError(`--sbom is required\n${USAGE}`);
  if (!o.vulns?.length) throw new UsageError(`--vulns is required\n${USAGE}`);
  if (!o.image) throw new UsageError(`--image is required\n${USAGE}`);
  if (o.trace && o["kubescape-profile"]) throw new UsageError("give either --trace or --kubescape-profile, not both");
  const ref = parseOciReference(o.image);
  const digest = o.digest ?? ref.digest;
  if (!digest) throw new UsageError("the image digest is required: --image REF@sha256:<hex> or --digest sha256:<hex>");
  if (o.digest && ref.digest && o.digest !== ref.digest) throw new UsageError(`--digest ${o.digest} differs from the digest in --image`);
  if (o["image-root"] && o["image-layout"]) throw new UsageError("give either --image-root or --image-layout, not both");
  if (o.policy !== "standard" && o.policy !== "strict") throw new UsageError(`--policy is standard or strict, not ${o.policy}`);

  const warnings: string[] = [];
  const image = await readImage(o, digest, warnings);
  const inventory = mergeInventories(
    ...o.sbom.map((f) => withFile(f, () => loadInventory(readJson(f)))),
    ...(image ? [inventoryFromImageFiles(image.files)] : []),
  );
  const vulnerabilities = o.vulns.flatMap((f) => withFile(f, () => loadVulnerabilities(readJson(f))));
  let trace: RuntimeTrace | null = null;
  if (o.trace) trace = withFile(o.trace, () => parseRuntimeTrace(readJson(o.trace!)));
  else if (o["kubescape-profile"]) {
    const f = o["kubescape-profile"];
    const k = withFile(f, () => readKubescapeProfile(readJson(f)));
    trace = k.trace;
    warnings.push(...k.notes);
  }
  if (trace && !(o.healthy && o.exercised)) {
    warnings.push("without --healthy and --exercised the run is not trusted, so no not_affected verdict comes from absence of use");
  }
  const health = { healthy: o.healthy, exercised: o.exercised, notes: o["health-note"] ?? [] };
  const report = analyzeReachability({
    inventory,
    vulnerabilities,
    trace,
    health,
    verdicts: { enabled: !o["no-verdicts"], unlockTier: o.tier },
    policy: o.policy as VexPolicy,
    ...(image ? { imagePaths: image.paths, symlinks: image.symlinks, executables: image.executables } : {}),
  });
  report.notes.push(...warnings);
  const openvex = buildOpenVex(report, {
    imageRef: o.image,
    imageDigest: digest,
    author: o.author,
    role: o.role,
    idBase: o["id-base"],
    ...(o["document-id"] ? { documentId: o["document-id"] } : {}),
  });
  for (const n of report.notes) process.stderr.write(`note: ${n}\n`);
  const s = report.summary;
  process.stderr.write(
    `reachability: ${s.packages} packages (${inventory.formats.join(", ")}), ${s.decisions} decisions: ` +
      `${s.affected} affected, ${s.not_affected} not_affected, ${s.under_investigation} under_investigation\n`,
  );
  if (openvex.statements.length === 0) {
    process.stderr.write("note: no vulnerability matches, so the OpenVEX document has no statements (OpenVEX 0.2.0 requires one: do not publish it)\n");
  }
  process.stdout.write(`${JSON.stringify(o.report ? { openvex, report } : openvex, null, 2)}\n`);
  return 0;
}

/** The image's own files: an unpacked root, or an OCI layout unpacked for the run. Without either, say what that costs. */
async function readImage(o: Opts, digest: string, warnings: string[]): Promise<ImageFilesystemSnapshot | null> {
  if (o["image-root"]) {
    const root = o["image-root"];
    if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--image-root ${root} is not a directory`);
    return readImageRoot(root);
  }
  if (o["image-layout"]) {
    const { root, manifestDigest, cleanup } = await unpackOciLayout(o["image-layout"]);
    try {
      if (manifestDigest !== digest) warnings.push(`the OCI layout's image is ${manifestDigest}, not ${digest}: its files may not be the analysed image's`);
      return await readImageRoot(root);
    } finally {
      await cleanup();
    }
  }
  process.stderr.write(
    "reachability: no --image-root or --image-layout: the ELF loaders and #! interpreters the kernel ran cannot be read, so no package that ships one gets an absence claim, and component_not_present is not decided\n",
  );
  return null;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputFormatError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputFormatError && !err.message.startsWith(file)) throw new InputFormatError(`${file}: ${err.message}`);
    if (err instanceof Error && err.name === "KubescapeProfileError") throw new InputFormatError(`${file}: ${err.message}`);
    throw err;
  }
}

function fail(message: string, code: number): number {
  process.stderr.write(`reachability: ${message}\n`);
  return code;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("cli/reachability.ts")) {
  // Under `npm run` (from the repository root or -w sandbox-runner) file arguments are relative to
  // where the user typed the command, not to the package npm runs the script in.
  if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  process.exitCode = await main(process.argv.slice(2));
}
