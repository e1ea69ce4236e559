// Writes, for one labelled test image, from its truth.json and what is REALLY installed in it:
//   <out>/<name>.vulns.grype.json  Grype JSON: one made-up TEST CVE per truth.json package
//   <out>/<name>.truth.json        truth.json with the installed version and the purl filled in
//   <out>/java-jars.sbom.syft.json (java-jars) Syft-JSON-shaped SBOM of the jars under /srv
// Versions come from the image's dpkg status, node_modules/<pkg>/package.json and the jars'
// META-INF/maven/**/pom.properties, never from truth.json.
//
// node write-meta.mjs --name N --truth FILE --rootfs DIR --app DIR --digest sha256:… --layer sha256:… --out DIR
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseManifestMain, parseProperties, readZip } from "./zip.mjs";

const { values: a } = parseArgs({
  options: Object.fromEntries(["name", "truth", "rootfs", "app", "digest", "layer", "out"].map((k) => [k, { type: "string" }])),
});
for (const k of ["name", "truth", "rootfs", "app", "digest", "out"]) if (!a[k]) throw new Error(`--${k} is required`);

const truth = JSON.parse(readFileSync(a.truth, "utf8"));
const imageRef = `localhost/vexxy-test/${a.name}:latest`;
// In-image path → host path: the app overlay wins over the system root (as it does in the image).
const hostPath = (p) => (existsSync(join(a.app, p)) ? join(a.app, p) : join(a.rootfs, p));

// --- dpkg -------------------------------------------------------------------------------------------
function dpkgStatus() {
  const text = readFileSync(join(a.rootfs, "var/lib/dpkg/status"), "utf8");
  const pkgs = new Map();
  for (const stanza of text.split(/\n\n+/)) {
    const f = {};
    let last;
    for (const line of stanza.split("\n")) {
      if (/^\s/.test(line) && last) f[last] += "\n" + line;
      else {
        const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
        if (m) f[(last = m[1])] = m[2];
      }
    }
    if (f.Package && / installed$/.test(f.Status ?? "")) pkgs.set(f.Package, f);
  }
  return pkgs;
}
const dpkg = dpkgStatus();

function debIdentity(name) {
  const f = dpkg.get(name);
  if (!f) throw new Error(`${a.name}: truth.json names deb ${name}, which is not installed in the image`);
  const source = (f.Source ?? name).split(" ")[0];
  const arch = f.Architecture;
  // Unencoded version and upstream qualifier, as syft/grype print Debian purls (and build.sh writes).
  const purl = `pkg:deb/debian/${name}@${f.Version}?arch=${arch}${source !== name ? `&upstream=${source}` : ""}&distro=debian-12`;
  return { version: f.Version, purl, source, arch, location: "/var/lib/dpkg/status" };
}

// --- npm --------------------------------------------------------------------------------------------
function npmIdentity(name) {
  const loc = `/srv/node_modules/${name}/package.json`;
  const file = hostPath(loc);
  if (!existsSync(file)) throw new Error(`${a.name}: truth.json names npm ${name}, but ${loc} is not in the image`);
  const pj = JSON.parse(readFileSync(file, "utf8"));
  if (pj.name !== name) throw new Error(`${loc} is ${pj.name}, not ${name}`);
  const purl = name.startsWith("@") ? `pkg:npm/${encodeURIComponent(name.split("/")[0])}/${name.split("/")[1]}@${pj.version}` : `pkg:npm/${name}@${pj.version}`;
  return { version: pj.version, purl, location: loc };
}

// --- maven (jars) -----------------------------------------------------------------------------------
function jarInfo(inImagePath) {
  const buf = readFileSync(hostPath(inImagePath));
  const zip = readZip(buf);
  const pomEntry = [...zip.keys()].find((k) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(k));
  if (!pomEntry) throw new Error(`${inImagePath}: no META-INF/maven/*/*/pom.properties`);
  const pom = parseProperties(zip.get(pomEntry)().toString("utf8"));
  const manifest = zip.has("META-INF/MANIFEST.MF") ? parseManifestMain(zip.get("META-INF/MANIFEST.MF")().toString("utf8")) : [];
  return {
    path: inImagePath,
    pomPath: pomEntry,
    groupId: pom.groupId,
    artifactId: pom.artifactId,
    version: pom.version,
    manifest,
    sha1: createHash("sha1").update(buf).digest("hex"),
    purl: `pkg:maven/${pom.groupId}/${pom.artifactId}@${pom.version}`,
  };
}

function mavenIdentity(p) {
  if (!p.location) throw new Error(`${a.name}: maven package ${p.name} needs "location" (the jar's path) in truth.json`);
  const j = jarInfo(p.location);
  if (j.artifactId !== p.name || (p.group && j.groupId !== p.group)) {
    throw new Error(`${p.location} is ${j.groupId}:${j.artifactId}, not ${p.group}:${p.name}`);
  }
  return { version: j.version, purl: j.purl, location: p.location, group: j.groupId, jar: j };
}

// --- resolve every truth.json package ---------------------------------------------------------------
const resolved = truth.packages.map((p) => {
  const id = p.ecosystem === "deb" ? debIdentity(p.name) : p.ecosystem === "npm" ? npmIdentity(p.name) : p.ecosystem === "maven" ? mavenIdentity(p) : null;
  if (!id) throw new Error(`${a.name}: unknown ecosystem ${p.ecosystem} for ${p.name}`);
  if (p.version && p.version !== id.version) {
    console.error(`[labelled-images] note: ${a.name} ${p.ecosystem}/${p.name} is ${id.version} in the image; truth.json recorded ${p.version} (the archive moved on; the truth is about the package, the files follow the image)`);
  }
  return { p, id };
});
const cves = resolved.map(({ p }) => p.cve);
if (new Set(cves).size !== cves.length) throw new Error(`${a.name}: duplicate CVE ids in truth.json`);

// A fix version for the made-up advisory: Debian "+vexxytest1"; semver-ish: the next patch.
const nextVersion = (v) => v.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1));

const ECO = {
  deb: { type: "deb", language: "", matcher: "dpkg-matcher", namespace: "debian:distro:debian:12" },
  npm: { type: "npm", language: "javascript", matcher: "javascript-matcher", namespace: "github:language:javascript" },
  maven: { type: "java-archive", language: "java", matcher: "java-matcher", namespace: "github:language:java" },
};

const matches = resolved.map(({ p, id }) => {
  const e = ECO[p.ecosystem];
  const fix = p.ecosystem === "deb" ? `${id.version}+vexxytest1` : nextVersion(id.version);
  const constraint = p.ecosystem === "deb" ? `< ${fix} (deb)` : `< ${fix} (${p.ecosystem === "npm" ? "semver" : "unknown"})`;
  const searchedBy =
    p.ecosystem === "deb"
      ? { distro: { type: "debian", version: "12" }, namespace: e.namespace, package: { name: id.source, version: id.version } }
      : { language: e.language, namespace: e.namespace, package: { name: p.name, version: id.version } };
  const artifact = {
    id: createHash("sha256").update(`${id.purl}|${id.location}`).digest("hex").slice(0, 16),
    name: p.name,
    version: id.version,
    type: e.type,
    locations: [{ path: id.location }],
    language: e.language,
    licenses: [],
    cpes: [],
    purl: id.purl,
    upstreams: p.ecosystem === "deb" && id.source !== p.name ? [{ name: id.source }] : [],
  };
  if (p.ecosystem === "maven") {
    artifact.metadataType = "JavaMetadata";
    artifact.metadata = { virtualPath: id.location, pomArtifactID: p.name, pomGroupID: id.group, manifestName: p.name };
  }
  return {
    vulnerability: {
      id: p.cve,
      dataSource: `https://vexxy.invalid/test-cves/${p.cve}`,
      namespace: e.namespace,
      severity: p.severity ?? "Medium",
      urls: [],
      description: "TEST DATA: made-up vulnerability for a VEXxy labelled test image; not a real CVE.",
      fix: { versions: [fix], state: "fixed" },
    },
    relatedVulnerabilities: [],
    matchDetails: [{ type: "exact-direct-match", matcher: e.matcher, searchedBy, found: { vulnerabilityID: p.cve, versionConstraint: constraint } }],
    artifact,
  };
});

const grype = {
  matches,
  source: { type: "image", target: { userInput: imageRef, manifestDigest: a.digest } },
  distro: { name: "debian", version: "12", idLike: [] },
  descriptor: { name: "vexxy-test-images", version: "1" },
};
writeFileSync(join(a.out, `${a.name}.vulns.grype.json`), JSON.stringify(grype, null, 2) + "\n");

const resolvedTruth = {
  ...truth,
  image_ref: imageRef,
  image_digest: a.digest,
  packages: resolved.map(({ p, id }) => ({ ...p, version: id.version, purl: id.purl, ...(p.ecosystem === "npm" ? { location: id.location } : {}) })),
};
writeFileSync(join(a.out, `${a.name}.truth.json`), JSON.stringify(resolvedTruth, null, 2) + "\n");

// --- java-jars: the SBOM Syft would give for the jars (java-archive artifacts) ----------------------
if (a.name === "java-jars") {
  const jars = [];
  const walk = (dir) => {
    for (const n of readdirSync(join(a.app, dir)).sort()) {
      const p = `${dir}/${n}`;
      if (statSync(join(a.app, p)).isDirectory()) walk(p);
      else if (n.endsWith(".jar")) jars.push(p);
    }
  };
  walk("/srv");
  const layer = a.layer ?? "";
  const artifacts = jars.map((path) => {
    const j = jarInfo(path);
    const loc = { path, ...(layer ? { layerID: layer } : {}), accessPath: path, annotations: { evidence: "primary" } };
    return {
      id: createHash("sha256").update(`${j.purl}|${path}`).digest("hex").slice(0, 16),
      name: j.artifactId,
      version: j.version,
      type: "java-archive",
      foundBy: "java-archive-cataloger",
      locations: [loc],
      licenses: [],
      language: "java",
      cpes: [{ cpe: `cpe:2.3:a:${j.groupId}:${j.artifactId}:${j.version}:*:*:*:*:*:*:*`, source: "syft-generated" }],
      purl: j.purl,
      metadataType: "java-archive",
      metadata: {
        virtualPath: path,
        manifest: { main: j.manifest },
        pomProperties: { path: j.pomPath, name: "", groupId: j.groupId, artifactId: j.artifactId, version: j.version },
        digest: [{ algorithm: "sha1", value: j.sha1 }],
      },
    };
  });
  const sbom = {
    artifacts,
    artifactRelationships: [],
    source: {
      id: a.digest.replace(/^sha256:/, ""),
      name: `localhost/vexxy-test/${a.name}`,
      version: a.digest,
      type: "image",
      metadata: { userInput: imageRef, manifestDigest: a.digest, tags: [imageRef], repoDigests: [], architecture: "amd64", os: "linux", layers: layer ? [{ digest: layer }] : [] },
    },
    distro: { prettyName: "Debian GNU/Linux 12 (bookworm)", name: "Debian GNU/Linux", id: "debian", versionID: "12" },
    descriptor: {
      name: "vexxy-test-images",
      version: "1",
      configuration: { note: "written by sandbox-runner/test-images/labelled/write-meta.mjs in the shape of syft-json schema 16 java-archive artifacts; not produced by Syft" },
    },
    schema: { version: "16.0.39", url: "https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.39.json" },
  };
  writeFileSync(join(a.out, "java-jars.sbom.syft.json"), JSON.stringify(sbom, null, 2) + "\n");
}
console.error(`[labelled-images] ${a.name}: ${matches.length} test CVEs → ${join(a.out, `${a.name}.vulns.grype.json`)}`);
