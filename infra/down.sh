#!/usr/bin/env bash
# Stops what infra/up.sh started, by its pid files; never a server it found running (e.g. the machine's Redis).
# Usage: infra/down.sh [kafka|s3rver|dynalite|redis ...]   (all of them by default)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STOP_TIMEOUT="${INFRA_STOP_TIMEOUT:-30}"

# stop NAME MARKER: SIGTERM, a bounded wait, then SIGKILL.
stop() {
  local name="$1" marker="$2" pid
  if ! pid_alive "$name" "$marker"; then
    [[ -f "$RUN/$name.pid" ]] && log "$name: not running (stale pid file removed)"
    rm -f "$RUN/$name.pid"
    return 0
  fi
  pid="$(cat "$RUN/$name.pid")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name did not stop within ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.3
  done
  rm -f "$RUN/$name.pid"
}

declare -A MARKERS=([kafka]=kafka.Kafka [s3rver]=s3rver [dynalite]=dynalite [redis]=redis-server)
# Only a redis-server that up.sh started has a pid file here.
NAMES=("$@")
((${#NAMES[@]} > 0)) || NAMES=(kafka s3rver dynalite redis)
for name in "${NAMES[@]}"; do
  [[ -n "${MARKERS[$name]:-}" ]] || fail "unknown server '$name' (kafka, s3rver, dynalite, redis)"
  stop "$name" "${MARKERS[$name]}"
done
log "down: ${NAMES[*]}"
