/**
 * The tracing sidecar's program (POSIX sh + strace, tar, gzip, base64, sha256sum, awk — e.g. an
 * Alpine image with strace). It runs as a native sidecar, so kubelet starts it before the target
 * and stops it after the target. It polls /proc (shared process namespace) for the first process
 * in another container's cgroup and attaches strace to it. When that process is still the
 * runtime's init (runc/crun waiting to exec the entrypoint), nothing ran unobserved and the meta
 * file says from_first_exec=1. When the target exits, strace ends and the sidecar prints the
 * framed block decoded by ./dump.ts, then waits for kubelet's SIGTERM.
 */
export const SIDECAR_SCRIPT = String.raw`set -u
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
  complete=1
  while kill -0 "$spid" 2>/dev/null; do
    wait "$spid"
    if [ "$stopping" = 1 ] && kill -0 "$spid" 2>/dev/null; then
      complete=0
      kill -INT "$spid" 2>/dev/null
    fi
  done
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
