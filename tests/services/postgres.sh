#!/usr/bin/env bash
# A throwaway PostgreSQL 15 + pgvector cluster on 127.0.0.1 for the tests (Debian 12, as root).
#   tests/services/postgres.sh install   installs PostgreSQL 15 and builds pgvector from Debian trixie's source
#                                       package when vector.so is absent (pgvector is not packaged for Debian 12)
#   eval "$(tests/services/postgres.sh start)"
#                                       starts a cluster on a random free port with database "app" and the vector
#                                       extension; prints export lines for CLIPSEARCH_TEST_POSTGRES and PG_CI_ROOT
#   tests/services/postgres.sh stop [ROOT]
#                                       stops the cluster started in ROOT (default $PG_CI_ROOT) and deletes it
# Steps: ../shared/ops/pgvector-ci.md. Everything goes to stderr except the export lines.
set -euo pipefail
PG_MAJOR=15
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin

log() { echo "postgres.sh: $*" >&2; }

vector_installed() {
  [ -x "$PGBIN/pg_config" ] && [ -f "$("$PGBIN/pg_config" --pkglibdir)/vector.so" ] && return 0
  [ -f "/usr/lib/postgresql/$PG_MAJOR/lib/vector.so" ]
}

# A subshell: the EXIT trap that removes the deb-src entry fires once, when install ends (a RETURN trap would
# stay set and fire again when the caller returns).
install() (
  if [ -x "$PGBIN/initdb" ] && vector_installed; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL $PG_MAJOR with pgvector is missing and installing it needs root"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local src=/etc/apt/sources.list.d/clipsearch-trixie-src.sources
  log "installing PostgreSQL $PG_MAJOR and building pgvector (once)"
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$src"
  trap 'rm -f "$src"; apt-get update -qq >&2 || true' EXIT
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  # The package would create and start a system cluster on port 5432; the tests need only their own.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" dpkg-dev build-essential >&2
  if ! vector_installed; then
    local work
    work=$(mktemp -d -t pgvector.XXXX)
    chmod 755 "$work"
    (cd "$work" && apt-get source -qq pgvector >&2 && cd pgvector-*/ \
      && make -s PG_CONFIG="$PGBIN/pg_config" with_llvm=no >&2 \
      && make -s install PG_CONFIG="$PGBIN/pg_config" with_llvm=no >&2)
    rm -rf "$work"
  fi
  vector_installed || { log "pgvector did not install"; exit 1; }
)

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  install
  local root port tries
  root=$(mktemp -d -t pgci.XXXX)
  mkdir -p "$root/data" "$root/sock"
  chown -R postgres:postgres "$root"
  # Whatever fails from here on, the half-started cluster is stopped and deleted.
  trap 'stop "$root"' EXIT
  runuser -u postgres -- "$PGBIN/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; exit 1; }
  port=""
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || { port=""; continue; }
    if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$root/data" -l "$root/pg.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $root/sock -c fsync=off" start >&2; then
      break
    fi
    port=""
  done
  [ -n "$port" ] || { log "could not start PostgreSQL (see $root/pg.log)"; cat "$root/pg.log" >&2; exit 1; }
  "$PGBIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE app" -c '\c app' -c "CREATE EXTENSION vector" >&2
  trap - EXIT
  log "PostgreSQL $PG_MAJOR + pgvector on 127.0.0.1:$port ($root)"
  echo "export PG_CI_ROOT='$root'"
  echo "export CLIPSEARCH_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=app'"
}

stop() {
  local root=${1:-${PG_CI_ROOT:-}}
  [ -n "$root" ] && [ -d "$root/data" ] || { log "nothing to stop"; return 0; }
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$root/data" -m fast -w stop >&2 || true
  rm -rf "$root"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 install|start|stop [ROOT]" >&2; exit 2 ;;
esac
