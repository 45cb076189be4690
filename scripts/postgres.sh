#!/usr/bin/env bash
# A throw-away PostgreSQL + PostGIS cluster on a local port, for the tests of `spatial db`.
#
#   scripts/postgres.sh install          Debian's postgresql and postgis packages (root or sudo)
#   scripts/postgres.sh start DIR PORT   initdb DIR, start on 127.0.0.1:PORT, create db "spatial"
#   scripts/postgres.sh stop DIR         stop it (the tests then remove DIR)
#
# The server runs as a non-root user (PostgreSQL refuses root): the caller, or as root the
# system user "spatialpg", created if missing. Connect with postgresql://spatial@127.0.0.1:PORT/spatial
# (trust authentication, loopback only).
set -euo pipefail
cmd=${1:-}
bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] || { echo "PostgreSQL is not installed: run scripts/postgres.sh install" >&2; exit 1; }
  echo "$d"
}
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id spatialpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin spatialpg
    runuser -u spatialpg -- "$@"
  else
    "$@"
  fi
}
case "$cmd" in
  install)
    have_pg=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -1 || true)
    have_gis=$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null | head -1 || true)
    [ -n "$have_pg" ] && [ -n "$have_gis" ] && exit 0
    if [ "$(id -u)" -eq 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get)
    else echo "install as root: apt-get install postgresql postgresql-15-postgis-3" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" update -qq
    # the PostGIS package of the Debian release's PostgreSQL (15 on bookworm)
    major=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*postgresql-\([0-9][0-9]*\)$/\1/p' | head -1)
    "${apt[@]}" install -y -qq --no-install-recommends postgresql "postgresql-${major:-15}-postgis-3" >/dev/null
    ;;
  start)
    dir=${2:?data folder}; port=${3:?port}
    bin=$(bindir)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && { id spatialpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin spatialpg; chown spatialpg "$dir"; }
    as_owner "$bin/initdb" -D "$dir/data" -U spatial --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off" start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U spatial spatial
    echo "postgresql://spatial@127.0.0.1:$port/spatial"
    ;;
  stop)
    dir=${2:?data folder}
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *)
    echo "usage: scripts/postgres.sh install | start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
