#!/usr/bin/env bash
# Builds the sandbox test images offline (no container registry): Debian bookworm minbase root
# filesystems from debootstrap, packed into an OCI layout with umoci and loaded into podman from it,
# so each image keeps the manifest digest recorded here.
#
#   target  python3-minimal HTTP service on 8080 with KNOWN package use (see target/app.py);
#           libsqlite3-0 and bzip2 are installed but never used.
#   prober  minbase + curl, runs the user's test script.
#
# Idempotent: everything is cached in $VEXXY_IMAGE_CACHE (default /var/cache/vexxy-test-images) and
# reused; a second run only re-tags/loads what podman lacks. Needs (apt): debootstrap umoci podman jq.
# Outputs in the cache dir: oci/ (layout, tags "target" and "prober"), target.digest, prober.digest,
# target.vulns.grype.json (debootstrap output is not byte-reproducible, so its digest belongs to
# this machine's build and stays in the cache, not in the repository).
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
CACHE="${VEXXY_IMAGE_CACHE:-/var/cache/vexxy-test-images}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/../containers.conf}"

TARGET_INCLUDE="python3-minimal,libsqlite3-0,bzip2"
PROBER_INCLUDE="curl,ca-certificates"
# Bump when the recipe changes so cached images are rebuilt.
RECIPE=1

log() { echo "[test-images] $*" >&2; }
need() { command -v "$1" >/dev/null || { log "missing $1 (apt-get install $2)"; exit 1; }; }
need debootstrap debootstrap
need umoci umoci
need podman podman
need jq jq
[ "$(id -u)" = 0 ] || { log "run as root (debootstrap and umoci unpack need it)"; exit 1; }

mkdir -p "$CACHE/debs"

# build_rootfs NAME INCLUDE: a trimmed minbase root filesystem in $CACHE/rootfs-NAME.
build_rootfs() {
  local name="$1" include="$2" dir="$CACHE/rootfs-$1"
  if [ -f "$dir/.complete-$RECIPE" ]; then return; fi
  log "debootstrap $name ($include)"
  rm -rf "$dir"
  debootstrap --variant=minbase --include="$include" --cache-dir="$CACHE/debs" \
    "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap-$name.log" 2>&1 \
    || { tail -30 "$CACHE/debootstrap-$name.log" >&2; exit 1; }
  # What a slim image drops; dpkg's .list files still name these paths, which is realistic.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/man "$dir"/usr/share/info "$dir"/usr/share/locale "$dir"/var/log/*.log
  : >"$dir/etc/resolv.conf"
  echo vexxy-test >"$dir/etc/hostname"
  touch "$dir/.complete-$RECIPE"
}

# pack_image NAME: OCI image NAME in $CACHE/oci from rootfs-NAME plus the image config.
pack_image() {
  local name="$1"
  shift
  local stamp="$CACHE/oci-$name.complete-$RECIPE"
  if [ -f "$stamp" ] && [ -f "$CACHE/$name.digest" ]; then return; fi
  [ -f "$CACHE/oci/index.json" ] || umoci init --layout "$CACHE/oci"
  local bundle="$CACHE/bundle-$name"
  rm -rf "$bundle"
  umoci new --image "$CACHE/oci:$name"
  umoci unpack --image "$CACHE/oci:$name" "$bundle" >/dev/null
  cp -a "$CACHE/rootfs-$name/." "$bundle/rootfs/"
  rm -f "$bundle/rootfs/.complete-$RECIPE"
  if [ "$name" = target ]; then
    install -D -m 0644 "$HERE/target/app.py" "$bundle/rootfs/srv/app.py"
  fi
  umoci repack --image "$CACHE/oci:$name" "$bundle"
  umoci config --image "$CACHE/oci:$name" "$@"
  umoci gc --layout "$CACHE/oci"
  rm -rf "$bundle"
  manifest_digest "$name" >"$CACHE/$name.digest"
  touch "$stamp"
}

manifest_digest() {
  jq -r --arg n "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' \
    "$CACHE/oci/index.json"
}

# load_image NAME: podman image localhost/vexxy-test/NAME:latest with the layout's manifest digest.
load_image() {
  local name="$1" digest
  digest="$(cat "$CACHE/$name.digest")"
  local have
  have="$(podman image inspect --format '{{.Digest}}' "localhost/vexxy-test/$name:latest" 2>/dev/null || true)"
  if [ "$have" = "$digest" ]; then return; fi
  log "loading $name ($digest) into podman"
  podman pull -q "oci:$CACHE/oci:$name" >/dev/null
  local id
  id="$(podman images --digests --format '{{.Digest}} {{.ID}}' | awk -v d="$digest" '$1 == d { print $2; exit }')"
  [ -n "$id" ] || { log "podman did not keep digest $digest for $name"; exit 1; }
  podman tag "$id" "localhost/vexxy-test/$name:latest"
  # The oci: transport names the image after the layout path; drop that name so only ours remains.
  podman image inspect --format '{{range .RepoTags}}{{println .}}{{end}}' "$id" \
    | grep -v "^localhost/vexxy-test/" | while read -r tag; do [ -z "$tag" ] || podman untag "$id" "$tag"; done
}

# write_vulns: a Grype-format match list naming real packages/versions of the target image.
write_vulns() {
  local admin="$CACHE/rootfs-target/var/lib/dpkg" out="$CACHE/target.vulns.grype.json"
  local rows
  # package|test CVE|severity — libssl3 and zlib1g are used at runtime, libsqlite3-0 and bzip2 are not.
  rows="$(for entry in libssl3:CVE-0000-0001:High zlib1g:CVE-0000-0002:Medium \
      libsqlite3-0:CVE-0000-0003:Critical bzip2:CVE-0000-0004:Low; do
    IFS=: read -r pkg cve sev <<<"$entry"
    dpkg-query --admindir="$admin" -W -f='${Package}\t${Version}\t${source:Package}\t${Architecture}\t' "$pkg"
    printf '%s\t%s\n' "$cve" "$sev"
  done)"
  printf '%s\n' "$rows" | jq -R -s --arg digest "$(cat "$CACHE/target.digest")" '
    [split("\n")[] | select(length > 0) | split("\t")] |
    {
      matches: map({
        vulnerability: {
          id: .[4],
          dataSource: "https://vexxy.invalid/test-cves/\(.[4])",
          namespace: "debian:distro:debian:12",
          severity: .[5],
          urls: [],
          description: "TEST DATA: made-up vulnerability for the VEXxy sandbox test image; not a real CVE.",
          fix: { versions: ["\(.[1])+vexxytest1"], state: "fixed" }
        },
        relatedVulnerabilities: [],
        matchDetails: [{
          type: "exact-direct-match",
          matcher: "dpkg-matcher",
          searchedBy: { distro: { type: "debian", version: "12" }, namespace: "debian:distro:debian:12",
                        package: { name: .[2], version: .[1] } },
          found: { vulnerabilityID: .[4], versionConstraint: "< \(.[1])+vexxytest1 (deb)" }
        }],
        artifact: {
          id: (.[0] + "@" + .[1]),
          name: .[0],
          version: .[1],
          type: "deb",
          locations: [{ path: "/var/lib/dpkg/status" }],
          language: "",
          licenses: [],
          cpes: [],
          # Unencoded version and upstream qualifier, as syft/grype print Debian purls.
          purl: "pkg:deb/debian/\(.[0])@\(.[1])?arch=\(.[3])\(if .[2] != .[0] then "&upstream=" + .[2] else "" end)&distro=debian-12",
          upstreams: (if .[2] != .[0] then [{ name: .[2] }] else [] end)
        }
      }),
      source: { type: "image", target: { userInput: "localhost/vexxy-test/target:latest", manifestDigest: $digest } },
      distro: { name: "debian", version: "12", idLike: [] },
      descriptor: { name: "vexxy-test-images", version: "1" }
    }' >"$out"
}

build_rootfs target "$TARGET_INCLUDE"
build_rootfs prober "$PROBER_INCLUDE"
pack_image target --config.cmd /usr/bin/python3.11 --config.cmd /srv/app.py \
  --config.workingdir /srv --config.exposedports 8080/tcp \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env PYTHONDONTWRITEBYTECODE=1 --config.env PYTHONUNBUFFERED=1 \
  --config.label org.opencontainers.image.title=vexxy-test-target
pack_image prober --config.cmd /bin/sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.opencontainers.image.title=vexxy-test-prober
load_image target
load_image prober
write_vulns
log "target $(cat "$CACHE/target.digest")"
log "prober $(cat "$CACHE/prober.digest")"
