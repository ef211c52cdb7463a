#!/usr/bin/env bash
# One command from a fresh machine to a running service on http://127.0.0.1:8080/ :
# creates .venv, installs whistle, initialises the instance (folders, secrets, pepper,
# database schema) and serves it with the embedded defaults (SQLite + local folder).
# Extra arguments go to `whistle serve` (e.g. --port 9000; --dev for the reloader). The default
# server is gunicorn with deploy/gunicorn.conf.py.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
stamp=.venv/.whistle-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp || requirements/main.txt -nt $stamp ]]; then
  # The versions the tests ran with, hash-checked (requirements/main.txt), then whistle itself.
  if ! { .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes \
           -r requirements/main.txt &&
         .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
           --no-build-isolation -e . ; } >.venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2; exit 1
  fi
  touch "$stamp"
fi
if [[ ${1:-} == --demo ]]; then  # a seeded trial instance on loopback (see README)
  shift
  exec .venv/bin/whistle demo "$@"
fi
.venv/bin/whistle init
exec .venv/bin/whistle serve "$@"
