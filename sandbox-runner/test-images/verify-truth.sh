#!/usr/bin/env bash
# Checks a labelled test image's truth.json WITHOUT the reachability engine and without strace:
# runs the image with podman (sandbox-like: no network, read-only root, no capabilities), runs its
# test script from the prober image in the container's network namespace, and records
#   - every file opened or read inside the container (inotify on the container's root, set up between
#     `podman init` and `podman start`, so it sees the first exec; the kernel's reads of a shebang
#     interpreter and of PT_INTERP show up as ACCESS events even though no syscall names them),
#   - /proc/<pid>/maps and /proc/<pid>/exe of every process in the container's PID namespace,
#   - the container log (the entrypoint's banner; node's NODE_DEBUG=module lines),
#   - for java-jars the JVM's class-loading log (-Xlog:class+load via JAVA_TOOL_OPTIONS, this run only),
# then labelled/verify-truth.mjs reads the image (podman image mount): shebangs, PT_INTERP and
# DT_NEEDED (readelf), and each package's files (dpkg .list, node_modules dir, jar), and checks that
# every used package shows its code running and no unused package shows any use.
#
# Usage: verify-truth.sh NAME [--keep]   (NAME: shell-entry | musl-busybox | node-deps | java-jars)
# Needs: the images built (build.sh for prober, build-labelled.sh), root, podman, inotifywait
# (inotify-tools), nsenter, curl, readelf, node. Exit 0 when truth.json agrees.
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
CACHE="${VEXXY_IMAGE_CACHE:-/var/cache/vexxy-test-images}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/../containers.conf}"
name="${1:?usage: verify-truth.sh NAME [--keep]}"
keep="${2:-}"
truth="$CACHE/$name.truth.json"
image="localhost/vexxy-test/$name:latest"

log() { echo "[verify-truth] $*" >&2; }
for t in podman inotifywait nsenter curl readelf node jq; do
  command -v "$t" >/dev/null || { log "missing $t"; exit 2; }
done
[ "$(id -u)" = 0 ] || { log "run as root (nsenter, /proc/<pid>/root, podman image mount)"; exit 2; }
[ -f "$truth" ] || { log "$truth missing: run build-labelled.sh $name"; exit 2; }
podman image exists "$image" || { log "$image missing: run build-labelled.sh $name"; exit 2; }
podman image exists localhost/vexxy-test/prober:latest || { log "prober image missing: run build.sh"; exit 2; }

port="$(jq -r .run.port "$truth")"
health="$(jq -r .run.health_path "$truth")"
work="$(mktemp -d "/tmp/vexxy-verify-$name.XXXXXX")"
cname="vexxy-verify-$name-$$"
inot=""
mounted=""
cleanup() {
  [ -n "$inot" ] && kill "$inot" 2>/dev/null && wait "$inot" 2>/dev/null
  podman rm -f -t 0 "$cname" >/dev/null 2>&1 || true
  [ -n "$mounted" ] && podman image unmount "$image" >/dev/null 2>&1
  if [ "$keep" = --keep ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Diagnostics that only this run turns on: they change what the runtime logs, not what it loads.
diag=()
case "$name" in
  node-deps) diag=(--env NODE_DEBUG=module) ;;
  java-jars) diag=(--env "JAVA_TOOL_OPTIONS=-Xlog:class+load=info:file=/tmp/vexxy-class-load.log") ;;
esac

# As the runner's sandbox runs the target (container-args.ts): loopback only, read-only root with
# tmpfs /tmp /var/tmp /run, no capabilities.
podman create --name "$cname" --network none --hostname sandbox --read-only --read-only-tmpfs=false \
  --tmpfs /tmp:rw,nosuid,nodev,size=64m,mode=1777 --tmpfs /var/tmp:rw,nosuid,nodev,size=64m,mode=1777 \
  --tmpfs /run:rw,nosuid,nodev,size=64m,mode=1777 --cap-drop=all --security-opt no-new-privileges \
  --pull never --memory 512m "${diag[@]}" "$image" >/dev/null
podman init "$cname" >/dev/null
pid="$(podman inspect -f '{{.State.Pid}}' "$cname")"
[ "$pid" -gt 0 ] || { log "podman init left no process"; exit 1; }
root="/proc/$pid/root"

# Watch every real top-level directory of the container's root (symlinks like /bin -> usr/bin are
# covered by their targets; /proc /sys /dev are not files of any package).
dirs=()
for d in "$root"/* "$root"/.[!.]*; do
  [ -e "$d" ] && [ ! -L "$d" ] && [ -d "$d" ] || continue
  case "${d##*/}" in proc | sys | dev) continue ;; esac
  dirs+=("$d")
done
inotifywait -m -r -e open -e access --format '%e %w%f' "${dirs[@]}" >"$work/events" 2>"$work/inotify.err" &
inot=$!
for _ in $(seq 1 600); do
  grep -q "Watches established" "$work/inotify.err" && break
  kill -0 "$inot" 2>/dev/null || { cat "$work/inotify.err" >&2; exit 1; }
  sleep 0.1
done
grep -q "Watches established" "$work/inotify.err" || { log "inotify watches not established"; exit 1; }

podman start "$cname" >/dev/null
healthy=""
for _ in $(seq 1 240); do
  if nsenter -t "$pid" -n curl -fsS -m 2 "http://127.0.0.1:$port$health" >/dev/null 2>&1; then healthy=1; break; fi
  [ "$(podman inspect -f '{{.State.Running}}' "$cname")" = true ] || break
  sleep 0.5
done
[ -n "$healthy" ] || { log "$name did not answer on $port$health"; podman logs "$cname" >&2 || true; exit 1; }

set +e
podman run --rm -i --network "container:$cname" --read-only --read-only-tmpfs=false \
  --tmpfs /tmp:rw,nosuid,nodev,size=32m,mode=1777 --cap-drop=all --security-opt no-new-privileges \
  --pull never --workdir /tmp localhost/vexxy-test/prober:latest sh -s <"$HERE/$name/test.sh" >"$work/test.out" 2>&1
test_rc=$?
set -e
sleep 1

# Every process in the container's PID namespace: maps, exe, command line.
ns="$(readlink "/proc/$pid/ns/pid")"
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
  n="${p#/proc/}"
  cp "$p/maps" "$work/maps.$n" 2>/dev/null || continue
  readlink "$p/exe" >"$work/exe.$n" 2>/dev/null || true
  tr '\0' ' ' <"$p/cmdline" >"$work/cmdline.$n" 2>/dev/null || true
done
[ -f "$root/tmp/vexxy-class-load.log" ] && cp "$root/tmp/vexxy-class-load.log" "$work/class-load.log"

kill "$inot" && wait "$inot" 2>/dev/null || true
inot=""
podman logs "$cname" >"$work/container.log" 2>&1 || true
podman rm -f -t 0 "$cname" >/dev/null
podman image inspect "$image" >"$work/image.json"
mnt="$(podman image mount "$image")"
mounted=1

node "$HERE/labelled/verify-truth.mjs" --truth "$truth" --root "$mnt" --work "$work" --prefix "$root" --test-rc "$test_rc"
