/**
 * The tracing sidecar's program (POSIX sh + strace, GNU find and tar, gzip, base64, sha256sum, awk,
 * head, readlink — e.g. an Alpine image with strace, findutils and tar). It runs as a native sidecar, so kubelet starts it before the target
 * and stops it after the target. It polls /proc (shared process namespace) for the first process
 * in another container's cgroup and attaches strace to it. When that process is still the
 * runtime's init (runc/crun waiting to exec the entrypoint), nothing ran unobserved and the meta
 * file says from_first_exec=1. Once the target has exec'd its entrypoint, the sidecar also reads
 * the image through the target's /proc/<pid>/root (SNAPSHOT_ROOT): every path with its link
 * target, the package databases, and the first bytes of every executable (ELF interpreter, #!
 * line), as the podman driver reads them from the image mount. When the target exits, strace ends
 * and the sidecar prints the framed block decoded by ./dump.ts, then waits for kubelet's SIGTERM.
 */

/**
 * snapshot_root ROOT OUT: the image as the engine needs it. OUT/complete is written last, only when
 * every part succeeded; a snapshot cut short (the target gone mid-walk) is ignored, never trusted.
 */
export const SNAPSHOT_ROOT = String.raw`snapshot_root() {
  r="$1"; o="$2"
  rm -rf "$o"; mkdir -p "$o/heads" || return 1
  fmt='%y\t%m\t%P\t%l\n'
  prune='( -path ./proc -o -path ./sys -o -path ./dev ) -prune -o'
  (cd "$r" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \) -printf "$fmt" -prune -o -printf "$fmt") >"$o/paths" || return 1
  (cd "$r" && find . -xdev $prune -type f \( -path ./var/lib/dpkg/status -o -path './var/lib/dpkg/status.d/*' \
      -o -path './var/lib/dpkg/info/*.list' -o -path ./lib/apk/db/installed -o -path ./etc/os-release \
      -o -path ./usr/lib/os-release -o -name RECORD -o -name METADATA -o -path '*/node_modules/*/package.json' \) -print0 \
    | tar -cf "$o/db.tar" --null -T -) || return 1
  (cd "$r" && find . -xdev $prune -type f -perm /111 -exec sh -c \
    'for f; do mkdir -p "$0/heads/$(dirname "$f")" && head -c 4096 "$f" >"$0/heads/$f" || exit 1; done' "$o" {} +) || return 1
  : >"$o/complete"
}`;

export const SIDECAR_SCRIPT = String.raw`set -u
${SNAPSHOT_ROOT}
OUT=/trace/out
mkdir -p "$OUT"
SELF_CG=$(cat /proc/self/cgroup)
PAUSE_CG=$(cat /proc/1/cgroup 2>/dev/null || true)
stopping=0
trap 'stopping=1' TERM INT
uptime_ms() { awk '{printf "%d", $1*1000}' /proc/uptime; }
is_target() {
  [ "$1" = 1 ] && return 1
  cg=$(cat "/proc/$1/cgroup" 2>/dev/null) || return 1
  [ -n "$cg" ] && [ "$cg" != "$SELF_CG" ] && [ "$cg" != "$PAUSE_CG" ]
}
touch /trace/ready
found=""
while [ -z "$found" ] && [ "$stopping" = 0 ]; do
  for d in /proc/[0-9]*; do
    p=$(basename "$d")
    if is_target "$p"; then found="$found $p"; fi
  done
  [ -n "$found" ] || sleep 0.01
done
ff=0
complete=0
start=$(uptime_ms)
if [ -n "$found" ]; then
  ff=1
  args=""
  for p in $found; do
    case "$(cat /proc/$p/comm 2>/dev/null)" in runc*|crun*) ;; *) ff=0 ;; esac
    args="$args -p $p"
  done
  strace -f -ff -y -v -s 512 -qq -o "$OUT/t" $args 2>/trace/strace.err &
  spid=$!
  first=$(echo $found | cut -d' ' -f1)
  (
    # Read the image once the entrypoint has replaced the runtime's init (or after 30 s).
    i=0
    while [ $i -lt 3000 ]; do
      case "$(readlink /proc/$first/exe 2>/dev/null)" in ""|*runc*|*crun*) sleep 0.01; i=$((i + 1)) ;; *) break ;; esac
    done
    snapshot_root "/proc/$first/root" "$OUT/image" 2>/trace/snapshot.err
  ) &
  snap=$!
  complete=1
  while kill -0 "$spid" 2>/dev/null; do
    wait "$spid"
    if [ "$stopping" = 1 ] && kill -0 "$spid" 2>/dev/null; then
      complete=0
      kill -INT "$spid" 2>/dev/null
    fi
  done
  wait "$snap" 2>/dev/null
fi
end=$(uptime_ms)
printf 'from_first_exec=%s\ncomplete=%s\nduration_ms=%s\nattached=%s\n' "$ff" "$complete" "$((end - start))" "$found" > "$OUT/meta"
tar -czf /trace/trace.tgz -C "$OUT" .
sum=$(sha256sum /trace/trace.tgz | cut -d' ' -f1)
echo "VEXXY-TRACE-BEGIN v1"
base64 /trace/trace.tgz
echo "VEXXY-TRACE-END sha256=$sum"
trap 'exit 0' TERM INT
[ "$stopping" = 1 ] && exit 0
while :; do sleep 3600 & wait $!; done
`;
