#!/usr/bin/env bash
# Builds the LABELLED test images of issue #13 ("VEX you can trust on real images") offline, the way
# build.sh builds target/prober: root filesystem → OCI layout (umoci) → podman, cached.
#
#   shell-entry   bookworm minbase + python3-minimal; entrypoint /srv/entrypoint.sh is a #!/bin/bash
#                 script that execs the service (bash and ld-linux are loaded by the kernel)
#   musl-busybox  hand-assembled root (dpkg -x + a hand-written dpkg database): Debian's musl,
#                 busybox-static as /bin/sh, a musl-gcc dynamically linked C service at /srv/service
#   node-deps     bookworm minbase + Debian nodejs; /srv app with node_modules from the npm registry
#   java-jars     bookworm minbase + default-jre-headless; a com.sun.net.httpserver service with two
#                 Maven-style jars on the class path (one loaded, one never), plus a Syft-shaped SBOM
#
# Each image's ground truth is in <name>/truth.json (checked by verify-truth.sh). Per image the cache
# ($VEXXY_IMAGE_CACHE, default /var/cache/vexxy-test-images) gets <name>.digest,
# <name>.vulns.grype.json (made-up TEST CVEs on the packages truth.json names, with the versions
# actually installed), <name>.truth.json (truth.json with those versions/purls) and, for java-jars,
# java-jars.sbom.syft.json. The podman image is localhost/vexxy-test/<name>:latest.
#
# Idempotent: every step is stamped in the cache; a second run only re-loads what podman lacks.
# Network: deb.debian.org (debootstrap, apt-get download) and the npm registry (npm ci), nothing else.
# Needs (apt): debootstrap umoci podman jq musl-tools default-jdk-headless nodejs/npm.
# Usage: build-labelled.sh [NAME...]   (default: all four)
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
CACHE="${VEXXY_IMAGE_CACHE:-/var/cache/vexxy-test-images}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/../containers.conf}"
LAYOUT="$CACHE/oci-labelled"
# Bump an image's recipe when what goes into it changes, so the cached image is rebuilt.
declare -A RECIPE=([shell-entry]=1 [musl-busybox]=1 [node-deps]=1 [java-jars]=1)
ALL=(shell-entry musl-busybox node-deps java-jars)

log() { echo "[labelled-images] $*" >&2; }
need() { command -v "$1" >/dev/null || { log "missing $1 (apt-get install $2)"; exit 1; }; }
need debootstrap debootstrap
need umoci umoci
need podman podman
need jq jq
need node nodejs
need npm npm
need musl-gcc musl-tools
need readelf binutils
need javac default-jdk-headless
need jar default-jdk-headless
[ "$(id -u)" = 0 ] || { log "run as root (debootstrap, dpkg -x ownership and umoci unpack need it)"; exit 1; }

mkdir -p "$CACHE/debs"

# debootstrap_rootfs NAME INCLUDE: a trimmed bookworm minbase root in $CACHE/rootfs-NAME (as build.sh).
debootstrap_rootfs() {
  local name="$1" include="$2" dir="$CACHE/rootfs-$1" stamp=".complete-labelled-${RECIPE[$1]}"
  if [ -f "$dir/$stamp" ]; then return; fi
  log "debootstrap $name ($include)"
  rm -rf "$dir"
  debootstrap --variant=minbase --include="$include" --cache-dir="$CACHE/debs" \
    "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap-$name.log" 2>&1 \
    || { tail -30 "$CACHE/debootstrap-$name.log" >&2; exit 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/man "$dir"/usr/share/info "$dir"/usr/share/locale "$dir"/var/log/*.log
  : >"$dir/etc/resolv.conf"
  echo vexxy-test >"$dir/etc/hostname"
  touch "$dir/$stamp"
}

# apt_download DIR PKG...: the .debs of bookworm main (no security suite: the same archive debootstrap
# uses) into DIR, through a private apt state in the cache so the host's apt sources do not matter.
apt_download() {
  local dest="$1" state="$CACHE/apt"
  shift
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" >"$state/sources.list"
  : >"$state/status"
  local opts=(-q -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o Dir::State::status="$state/status"
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o Acquire::Languages=none -o APT::Sandbox::User=root)
  if ! ls "$state/lists/"*_Packages* >/dev/null 2>&1; then
    apt-get "${opts[@]}" update >"$CACHE/apt-update.log" 2>&1 || { tail -20 "$CACHE/apt-update.log" >&2; exit 1; }
  fi
  (cd "$dest" && apt-get "${opts[@]}" download "$@" >"$CACHE/apt-download.log" 2>&1) \
    || { tail -20 "$CACHE/apt-download.log" >&2; exit 1; }
}

# dpkg_install_by_hand ROOT DEB...: unpack each .deb (dpkg -x) and register it in ROOT's dpkg database
# the way dpkg would: a status stanza (the control file + "Status: install ok installed"),
# info/<pkg>[:<arch>].list (":arch" for Multi-Arch: same, as dpkg names it) and info/<pkg>.md5sums.
# Maintainer scripts are not run (the root has no tools to run them); the packages here need none.
dpkg_install_by_hand() {
  local root="$1"
  shift
  local admin="$root/var/lib/dpkg" ctl
  mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
  touch "$admin/status" "$admin/available"
  ctl="$(mktemp -d)"
  for deb in "$@"; do
    local pkg arch multi key
    pkg="$(dpkg-deb -f "$deb" Package)"
    arch="$(dpkg-deb -f "$deb" Architecture)"
    multi="$(dpkg-deb -f "$deb" Multi-Arch)"
    key="$pkg"
    [ "$multi" = same ] && key="$pkg:$arch"
    dpkg-deb -x "$deb" "$root"
    dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's#^\./$#/.#' -e 's#^\.##' -e 's#/$##' >"$admin/info/$key.list"
    rm -rf "$ctl"/*
    dpkg-deb -e "$deb" "$ctl"
    [ -f "$ctl/md5sums" ] && cp "$ctl/md5sums" "$admin/info/$key.md5sums"
    # Stanza: the control fields with Status right after Package, as dpkg writes it; blank-line separated.
    { awk '{ print } /^Package:/ { print "Status: install ok installed" }' "$ctl/control"; echo; } >>"$admin/status"
  done
  rm -rf "$ctl"
}

# ---------------------------------------------------------------------------------------------------
# Image recipes: each fills $CACHE/rootfs-NAME (the system) and $CACHE/app-NAME (what goes on top).

build_shell_entry() {
  debootstrap_rootfs shell-entry "python3-minimal,libsqlite3-0,bzip2"
  local app="$CACHE/app-shell-entry"
  rm -rf "$app"
  install -D -m 0755 "$HERE/shell-entry/entrypoint.sh" "$app/srv/entrypoint.sh"
  install -D -m 0644 "$HERE/shell-entry/app.py" "$app/srv/app.py"
}

MUSL_DEBS=(musl busybox-static zlib1g liblz4-1 libzstd1 libbz2-1.0 netbase)
build_musl_busybox() {
  local dir="$CACHE/rootfs-musl-busybox" stamp=".complete-labelled-${RECIPE[musl-busybox]}"
  if [ ! -f "$dir/$stamp" ]; then
    log "assembling musl-busybox by hand (${MUSL_DEBS[*]})"
    local debs="$CACHE/debs-musl-busybox"
    rm -rf "$debs" "$dir"
    apt_download "$debs" "${MUSL_DEBS[@]}"
    mkdir -p "$dir"/{bin,lib,etc,srv,tmp,run,proc,sys,dev,root,usr/bin,usr/lib,var/lib/dpkg}
    chmod 1777 "$dir/tmp"
    local files=()
    for p in "${MUSL_DEBS[@]}"; do files+=("$(ls "$debs/${p}_"*.deb)"); done
    dpkg_install_by_hand "$dir" "${files[@]}"
    ln -s busybox "$dir/bin/sh" # the only shell; owned by no package, as in busybox-based images
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
    printf 'root:x:0:\n' >"$dir/etc/group"
    echo vexxy-test >"$dir/etc/hostname"
    : >"$dir/etc/resolv.conf"
    # The Debian packages inside are bookworm's; say so, as Debian-derived minimal images do.
    cat >"$dir/etc/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
EOF
    touch "$dir/$stamp"
  fi
  local app="$CACHE/app-musl-busybox"
  rm -rf "$app"
  mkdir -p "$app/srv"
  musl-gcc -O2 -Wall -Wextra -o "$app/srv/service" "$HERE/musl-busybox/service.c"
  # The point of this image: a dynamic musl program whose loader the kernel maps (PT_INTERP).
  readelf -l "$app/srv/service" | grep -q 'Requesting program interpreter: /lib/ld-musl-x86_64.so.1' \
    || { log "musl-gcc did not produce a dynamic executable with PT_INTERP /lib/ld-musl-x86_64.so.1"; exit 1; }
  install -D -m 0755 "$HERE/musl-busybox/entrypoint.sh" "$app/srv/entrypoint.sh"
}

build_node_deps() {
  debootstrap_rootfs node-deps "nodejs,libsqlite3-0,bzip2"
  local app="$CACHE/app-node-deps" npmdir="$CACHE/npm-node-deps"
  # npm ci from the committed lock file; node_modules lives only in the cache.
  if ! cmp -s "$HERE/node-deps/package-lock.json" "$npmdir/package-lock.json" 2>/dev/null || [ ! -d "$npmdir/node_modules" ]; then
    log "npm ci (node-deps)"
    rm -rf "$npmdir"
    mkdir -p "$npmdir"
    cp "$HERE/node-deps/package.json" "$HERE/node-deps/package-lock.json" "$npmdir/"
    (cd "$npmdir" && npm ci --ignore-scripts --no-audit --no-fund --omit=dev >"$CACHE/npm-node-deps.log" 2>&1) \
      || { tail -20 "$CACHE/npm-node-deps.log" >&2; exit 1; }
  fi
  rm -rf "$app"
  mkdir -p "$app/srv"
  cp "$HERE/node-deps/server.js" "$HERE/node-deps/package.json" "$HERE/node-deps/package-lock.json" "$app/srv/"
  cp -a "$npmdir/node_modules" "$app/srv/"
  chmod -R a+rX,go-w "$app/srv"
}

# Maven-style jars: group dev.vexxy.test; name:version:source-dir.
JARS=(textfmt:1.4.2:textfmt csvkit:0.9.1:csvkit)
JAR_DATE=2024-01-01T00:00:00Z
build_java_jars() {
  debootstrap_rootfs java-jars "default-jre-headless"
  local app="$CACHE/app-java-jars" work="$CACHE/java-build"
  rm -rf "$app" "$work"
  mkdir -p "$app/srv/lib" "$work/classes"
  local cp=""
  for spec in "${JARS[@]}"; do
    IFS=: read -r artifact version src <<<"$spec"
    local out="$work/$artifact"
    mkdir -p "$out/META-INF/maven/dev.vexxy.test/$artifact"
    javac --release 17 -d "$out" $(find "$HERE/java-jars/$src" -name '*.java')
    make_maven_meta "$out" "$artifact" "$version"
    jar --create --date="$JAR_DATE" --file "$app/srv/lib/$artifact-$version.jar" --manifest "$work/$artifact.mf" -C "$out" .
    cp="${cp:+$cp:}$out"
  done
  local out="$work/app"
  mkdir -p "$out"
  javac --release 17 -cp "$cp" -d "$out" $(find "$HERE/java-jars/app" -name '*.java')
  make_maven_meta "$out" java-jars-app 1.0.0
  jar --create --date="$JAR_DATE" --file "$app/srv/app.jar" --manifest "$work/java-jars-app.mf" -C "$out" .
  chmod -R a+rX,go-w "$app/srv"
}

# make_maven_meta DIR ARTIFACT VERSION: what Maven puts in a jar (pom.properties, pom.xml, manifest).
make_maven_meta() {
  local dir="$1" artifact="$2" version="$3" meta="$1/META-INF/maven/dev.vexxy.test/$2"
  mkdir -p "$meta"
  printf 'artifactId=%s\ngroupId=dev.vexxy.test\nversion=%s\n' "$artifact" "$version" >"$meta/pom.properties"
  cat >"$meta/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.vexxy.test</groupId>
  <artifactId>$artifact</artifactId>
  <version>$version</version>
  <name>$artifact (VEXxy labelled test image)</name>
</project>
EOF
  printf 'Manifest-Version: 1.0\nCreated-By: vexxy-test-images\nBuild-Jdk-Spec: 17\nImplementation-Title: %s\nImplementation-Vendor-Id: dev.vexxy.test\nImplementation-Version: %s\n' \
    "$artifact" "$version" >"$CACHE/java-build/$artifact.mf"
}

# ---------------------------------------------------------------------------------------------------
# Packing and loading (as build.sh, in a layout of their own).

# inputs_hash NAME: what the image is built from (its committed sources and recipe number).
inputs_hash() {
  local name="$1"
  { echo "recipe ${RECIPE[$name]}"
    (cd "$HERE/$name" && find . -type f ! -name truth.json ! -name test.sh -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# image_fresh NAME: the cached image was packed from the current inputs.
image_fresh() {
  local stamp="$CACHE/oci-labelled-$1.complete"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(inputs_hash "$1")" ] && [ -f "$CACHE/$1.digest" ] && [ -d "$CACHE/app-$1" ]
}

# pack_image NAME CONFIG-ARGS...: OCI image NAME from rootfs-NAME + app-NAME and the image config.
pack_image() {
  local name="$1"
  shift
  log "packing $name"
  [ -f "$LAYOUT/index.json" ] || umoci init --layout "$LAYOUT"
  local bundle="$CACHE/bundle-$name"
  rm -rf "$bundle"
  umoci new --image "$LAYOUT:$name"
  umoci unpack --image "$LAYOUT:$name" "$bundle" >/dev/null
  cp -a "$CACHE/rootfs-$name/." "$bundle/rootfs/"
  rm -f "$bundle"/rootfs/.complete-*
  cp -a "$CACHE/app-$name/." "$bundle/rootfs/"
  umoci repack --image "$LAYOUT:$name" "$bundle"
  umoci config --image "$LAYOUT:$name" "$@" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.label "org.opencontainers.image.title=vexxy-test-$name" \
    --config.label "dev.vexxy.test.truth=sandbox-runner/test-images/$name/truth.json"
  umoci gc --layout "$LAYOUT"
  rm -rf "$bundle"
  jq -r --arg n "$name" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' \
    "$LAYOUT/index.json" >"$CACHE/$name.digest"
  inputs_hash "$name" >"$CACHE/oci-labelled-$name.complete"
}

# load_image NAME: podman image localhost/vexxy-test/NAME:latest with the layout's manifest digest.
load_image() {
  local name="$1" digest have id
  digest="$(cat "$CACHE/$name.digest")"
  have="$(podman image inspect --format '{{.Digest}}' "localhost/vexxy-test/$name:latest" 2>/dev/null || true)"
  if [ "$have" = "$digest" ]; then return; fi
  log "loading $name ($digest) into podman"
  podman pull -q "oci:$LAYOUT:$name" >/dev/null
  id="$(podman images --digests --format '{{.Digest}} {{.ID}}' | awk -v d="$digest" '$1 == d { print $2; exit }')"
  [ -n "$id" ] || { log "podman did not keep digest $digest for $name"; exit 1; }
  podman tag "$id" "localhost/vexxy-test/$name:latest"
  podman image inspect --format '{{range .RepoTags}}{{println .}}{{end}}' "$id" \
    | grep -v "^localhost/vexxy-test/" | while read -r tag; do [ -z "$tag" ] || podman untag "$id" "$tag"; done
}

# write_meta NAME: the Grype file, the resolved truth and (java-jars) the SBOM, from truth.json and
# what is really installed (dpkg status, node_modules package.json, the jars' pom.properties).
write_meta() {
  local name="$1" config diffid
  config="$(jq -r --arg n "$name" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' "$LAYOUT/index.json")"
  diffid="$(jq -r '.config.digest' "$LAYOUT/blobs/sha256/${config#sha256:}")"
  diffid="$(jq -r '.rootfs.diff_ids[0]' "$LAYOUT/blobs/sha256/${diffid#sha256:}")"
  node "$HERE/labelled/write-meta.mjs" --name "$name" --truth "$HERE/$name/truth.json" \
    --rootfs "$CACHE/rootfs-$name" --app "$CACHE/app-$name" --digest "$(cat "$CACHE/$name.digest")" \
    --layer "$diffid" --out "$CACHE"
}

build_one() {
  local name="$1"
  if ! image_fresh "$name"; then
    case "$name" in
      shell-entry)
        build_shell_entry
        pack_image shell-entry --config.entrypoint /srv/entrypoint.sh --config.workingdir /srv \
          --config.exposedports 8080/tcp --config.env PYTHONDONTWRITEBYTECODE=1 --config.env PYTHONUNBUFFERED=1 ;;
      musl-busybox)
        build_musl_busybox
        pack_image musl-busybox --config.entrypoint /srv/entrypoint.sh --config.workingdir /srv \
          --config.exposedports 8081/tcp ;;
      node-deps)
        build_node_deps
        pack_image node-deps --config.cmd /usr/bin/node --config.cmd /srv/server.js --config.workingdir /srv \
          --config.exposedports 3000/tcp --config.env NODE_ENV=production ;;
      java-jars)
        build_java_jars
        pack_image java-jars --config.cmd /usr/bin/java --config.cmd -XX:+UseSerialGC --config.cmd -Xmx64m \
          --config.cmd -XX:TieredStopAtLevel=1 \
          --config.cmd -cp --config.cmd /srv/app.jar:/srv/lib/textfmt-1.4.2.jar:/srv/lib/csvkit-0.9.1.jar \
          --config.cmd dev.vexxy.app.Main --config.workingdir /srv --config.exposedports 8090/tcp ;;
    esac
  fi
  load_image "$name"
  write_meta "$name"
  log "$name $(cat "$CACHE/$name.digest")"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
for n in "${names[@]}"; do
  [ -n "${RECIPE[$n]:-}" ] || { log "unknown image $n (one of: ${ALL[*]})"; exit 2; }
done
for n in "${names[@]}"; do build_one "$n"; done
