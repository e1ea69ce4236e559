#!/usr/bin/env bash
# `npm run e2e`: starts the whole local stack (`npm start`: Worker + sandbox-runner) on free ports with
# fresh state, then runs every end-to-end check against it through the public API.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT="${E2E_PORT:-8101}" RUNNER_PORT="${E2E_RUNNER_PORT:-8102}"
export VEXXY_STATE_DIR="$(mktemp -d /tmp/vexxy-e2e-state.XXXXXX)"
export BASE_URL="http://127.0.0.1:${PORT}"
# A short lease keeps the fault cases quick (the runner heartbeats every 15 s).
export JOB_LEASE_SECONDS="${E2E_LEASE_SECONDS:-30}"
log="$(mktemp /tmp/vexxy-e2e-stack.XXXXXX.log)"

for p in "$PORT" "$RUNNER_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "[e2e] port $p is already in use"; exit 1; fi
done
node scripts/start.mjs >"$log" 2>&1 &
stack=$!
cleanup() {
  kill -TERM "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
  # start.mjs stops its process groups; make sure nothing is left on our ports either way.
  for p in "$PORT" "$RUNNER_PORT"; do fuser -k -TERM "$p/tcp" >/dev/null 2>&1 || true; done
  rm -rf "$VEXXY_STATE_DIR"
  # The stack's log stays only when something failed (its path is printed then).
  if [ "${status:-1}" = 0 ]; then rm -f "$log"; else echo "[e2e] stack log kept: $log"; fi
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -fsS "$BASE_URL/health" >/dev/null 2>&1 && { [ "${VEXXY_NO_RUNNER:-}" = 1 ] || curl -fsS "http://127.0.0.1:${RUNNER_PORT}/healthz" >/dev/null 2>&1; }; then break; fi
  if ! kill -0 "$stack" 2>/dev/null; then echo "[e2e] the stack exited:"; cat "$log"; exit 1; fi
  sleep 1
done
curl -fsS "$BASE_URL/health" >/dev/null || { echo "[e2e] the stack did not come up:"; tail -50 "$log"; exit 1; }

status=0
# E2E_ONLY=name runs only the steps whose file name contains it.
for step in scripts/e2e.d/*${E2E_ONLY:-}*; do
  echo "[e2e] $step"
  if ! "$step"; then status=1; echo "[e2e] FAILED: $step"; fi
done
echo "[e2e] scanning the stack's log for secrets, tokens and passwords"
if ! node scripts/e2e/scan-logs.mjs "$log"; then status=1; fi
if [ "$status" != 0 ]; then echo "[e2e] stack log (tail):"; tail -80 "$log"; fi
exit "$status"
