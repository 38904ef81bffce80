# Shared helpers of the ops scripts (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Installs the Debian packages given as arguments when missing: as root through apt,
# otherwise prints the exact command and stops.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    say "installation des paquets manquants : ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
  else
    echo "Paquets système manquants : ${missing[*]}" >&2
    echo "Installez-les puis relancez :" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# Node.js and npm, unless some install (Debian's or NodeSource's) already provides them.
ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  ensure_packages nodejs npm
}

ensure_cargo() {
  if ! command -v cargo >/dev/null; then
    echo "Rust (cargo) est introuvable. Installez-le avec rustup : https://rustup.rs" >&2
    exit 1
  fi
}

# Server binaries of PostgreSQL (initdb, pg_ctl) with contrib extensions and pg_dump.
ensure_postgresql() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    ensure_packages postgresql postgresql-contrib
  fi
}

# The load tests' setup: the release marelle (or MARELLE_LOAD_BIN), a throwaway cluster in
# MARELLE_LOAD_PG_DIR (default $1) on MARELLE_LOAD_PG_PORT (default $2), migrated, with the
# demo city Corbas; sets MARELLE, PSQL_BIN, WORK, DB_URL and `sql`, stops everything on exit
# (including the server whose pid is in SERVER).
start_load_cluster() {
  ensure_postgresql
  PSQL_BIN="$(ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)"
  if [ -n "${MARELLE_LOAD_BIN:-}" ]; then
    MARELLE="$MARELLE_LOAD_BIN"
  else
    cargo build --release --locked --quiet
    MARELLE="$TARGET_DIR/release/marelle"
  fi
  export MARELLE_PG__DATA_DIR="${MARELLE_LOAD_PG_DIR:-$ROOT/var/$1}"
  export MARELLE_PG__PORT="${MARELLE_LOAD_PG_PORT:-$2}" MARELLE_PG__UNSAFE_FAST=true
  export MARELLE_LOG=warn
  WORK="$(mktemp -d)"
  "$MARELLE" db start >/dev/null
  trap '[ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; "$MARELLE" db stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  "$MARELLE" migrate >/dev/null
  "$MARELLE" demo --city corbas >/dev/null
  DB_URL="$("$MARELLE" db url)"
}

sql() { "$PSQL_BIN" "$DB_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
