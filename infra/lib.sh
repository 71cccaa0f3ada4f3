# Shared by infra/up.sh and infra/down.sh (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
RUN="$DATA/run"
LOGS="$DATA/logs"

log() { printf '[infra] %s\n' "$*"; }
fail() { printf '[infra] FAILED: %s\n' "$*" >&2; exit 1; }

# port_open PORT: a TCP connect to 127.0.0.1:PORT succeeds within 1 s.
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# pid_alive NAME: the pid in $RUN/NAME.pid is a live process whose command line contains NAME's marker.
pid_alive() {
  local file="$RUN/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}
