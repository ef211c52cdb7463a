#!/usr/bin/env bash
# One command that runs the whole test suite from a fresh machine:
#  - creates .venv and installs whistle with its test extras;
#  - installs PostgreSQL, Redis and Chromium from apt when missing (root + apt only);
#  - starts a throw-away PostgreSQL and Redis on loopback ports (unless
#    WHISTLE_TEST_PG_URL / WHISTLE_TEST_REDIS_URL are already set), exports their URLs,
#  - runs pytest (arguments are passed through) and stops the servers it started.
# With CI=true a server that cannot be provided makes the run fail instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
log() { printf 'test.sh: %s\n' "$*" >&2; }

# -- Python environment -------------------------------------------------------------------
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
stamp=.venv/.whistle-test-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp || requirements/dev.txt -nt $stamp ]]; then
  # The locked, hash-checked versions (runtime + test + dev extras), then whistle itself
  # without touching them (README: "Dependencies and the lock").
  if ! { .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes \
           -r requirements/dev.txt &&
         .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
           --no-build-isolation -e . ; } >.venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2; exit 1
  fi
  touch "$stamp"
fi

# -- system packages (idempotent: apt runs only when something is missing) ------------------
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
missing=()
[[ -n "$(pg_bindir)" ]] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v age >/dev/null || missing+=(age)            # referral packages opened as an agency would
command -v gpg >/dev/null || missing+=(gnupg)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)  # PDF reports read back as pages
command -v exiftool >/dev/null || missing+=(libimage-exiftool-perl)  # independent metadata reader
[[ -x /usr/sbin/tor || -n "$(command -v tor)" ]] || missing+=(tor)      # tests/production: shipped torrc
[[ -x /usr/sbin/nginx || -n "$(command -v nginx)" ]] || missing+=(nginx)  # tests/production: shipped site config
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing ${missing[*]} and cannot apt-get install; those tests will skip (fail in CI)"
  fi
fi
# .ci/run's linters need the environment, not the servers.
[[ ${WHISTLE_SETUP_ONLY:-} == 1 ]] && exit 0

# -- throw-away servers ---------------------------------------------------------------------
work=$(mktemp -d /tmp/whistle-test.XXXXXX)
chmod 755 "$work"
pg_started="" redis_started=""
cleanup() {
  if [[ -n $pg_started ]]; then as_pg "$PGBIN/pg_ctl -D $work/pg -m immediate -w stop" >/dev/null 2>&1 || true; fi
  if [[ -n $redis_started && -f $work/redis.pid ]]; then kill "$(cat "$work/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() {  # postgres refuses to run as root
  if [[ $(id -u) == 0 ]]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

PGBIN=$(pg_bindir)
if [[ -z ${WHISTLE_TEST_PG_URL:-} && -n $PGBIN ]]; then
  port=$(free_port)
  mkdir -p "$work/pg" "$work/sock"
  [[ $(id -u) == 0 ]] && chown postgres "$work/pg" "$work/sock"
  as_pg "$PGBIN/initdb -D $work/pg -U whistle --auth=trust -E UTF8 --no-sync" >/dev/null
  as_pg "$PGBIN/pg_ctl -D $work/pg -l $work/pg/server.log -w -o \"-p $port -k $work/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null
  pg_started=1
  as_pg "$PGBIN/createdb -h 127.0.0.1 -p $port -U whistle whistle_test"
  export WHISTLE_TEST_PG_URL="postgresql+psycopg://whistle@127.0.0.1:$port/whistle_test"
  export WHISTLE_TEST_PG_DATA="$work/pg"  # the canary test scans its files and WAL
  log "PostgreSQL on 127.0.0.1:$port"
fi
if [[ -z ${WHISTLE_TEST_REDIS_URL:-} ]] && command -v redis-server >/dev/null; then
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
  redis_started=1
  for _ in $(seq 50); do
    .venv/bin/python -c "import redis,sys; redis.Redis(port=$port).ping()" 2>/dev/null && break
    sleep 0.1
  done
  export WHISTLE_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  log "Redis on 127.0.0.1:$port"
fi

# -- tests ---------------------------------------------------------------------------------
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit $rc
