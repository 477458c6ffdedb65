# Shared set-up for scripts/demo.sh and scripts/test.sh; source it, do not run it.
# Installs what the platform needs on a fresh Debian machine, finds or starts PostgreSQL and
# Redis, and exports DATABASE_URL and REDIS_URL. Whatever it starts, it stops on exit.
#   SETUP_DEV=1         also install the development tools (ruff, mypy, pytest, Chromium)
#   EMBEDDED_SERVICES=1 start the private PostgreSQL and Redis even when others answer
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VAR="$ROOT/var"
mkdir -p "$VAR"
STARTED=()
stop_started() {  # last started, first stopped: web and worker before Redis and PostgreSQL
  local i entry
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    entry=${STARTED[$i]}
    kill -"${entry%%:*}" "${entry##*:}" 2>/dev/null || true
  done
}
trap stop_started EXIT
trap 'exit 130' INT TERM
say() { echo "[setup] $*"; }
timed() { local start=$SECONDS; "$@"; say "'$*' took $((SECONDS - start))s"; }

# 1. System packages: WeasyPrint's libraries, fonts for every programme's script, gettext,
#    and for development Chromium, poppler (PDF pages to PNG) and nginx (the reverse proxy tests).
PKGS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-noto-ui-core gettext postgresql-client redis-tools"
if [ -z "${DATABASE_URL:-}" ]; then PKGS="$PKGS postgresql"; fi
if [ -z "${REDIS_URL:-}" ]; then PKGS="$PKGS redis-server"; fi
if [ "${SETUP_DEV:-0}" = 1 ]; then PKGS="$PKGS chromium chromium-driver poppler-utils nginx"; fi
# Node.js and npm for the npm development tools, when the machine has none of its own.
if [ "${SETUP_DEV:-0}" = 1 ] && ! command -v npm >/dev/null; then PKGS="$PKGS nodejs npm"; fi
MISSING=$(for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done | xargs)
if [ -n "$MISSING" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    timed apt-get update -qq
    timed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
  else
    say "please install these Debian packages first: $MISSING"; exit 1
  fi
fi

# 2. Python 3.12 or newer (Django 6 needs it) in .venv, dependencies from the lock file.
PY=""
for candidate in python3.13 python3.12 python3 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /root/.pyenv/versions/3.1[2-9]*/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    PY=$(command -v "$candidate"); break
  fi
done
if [ -z "$PY" ]; then say "Python 3.12 or newer is needed: install python3.12 (or newer) and run again."; exit 1; fi
if ! .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
  rm -rf .venv; "$PY" -m venv .venv
fi
export UV_PYTHON_DOWNLOADS=never PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv 2>/dev/null
if [ "${SETUP_DEV:-0}" = 1 ]; then LOCK=requirements-dev.lock; else LOCK=requirements.lock; fi
timed .venv/bin/uv pip install -q --python .venv/bin/python -r "$LOCK"
export PATH="$ROOT/.venv/bin:$PATH"
# Development tools from the npm registry (package-lock.json): axe-core for the accessibility tests.
if [ "${SETUP_DEV:-0}" = 1 ]; then
  timed npm ci --no-audit --no-fund --loglevel=error
fi

# 3. PostgreSQL: DATABASE_URL if set; else the server on 127.0.0.1:5432 if it answers;
#    else a private cluster under var/pg from the installed binaries, on port 54329.
#    The platform connects as "betterwork", a role without superuser or BYPASSRLS: superusers
#    would skip row-level security. Bulk loading (manage.py seed_scale) alone connects as
#    "betterwork_loader": BYPASSRLS (PostgreSQL refuses COPY FROM under row-level security) and
#    a member of "betterwork", which owns the tables; never the other way round.
ensure_app_role() {  # $1 = libpq connection options of a superuser
  psql $1 -v ON_ERROR_STOP=1 -q -d postgres <<SQL
SELECT 'CREATE ROLE betterwork LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'betterwork')\gexec
SELECT 'CREATE DATABASE betterwork OWNER betterwork'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'betterwork')\gexec
SELECT 'CREATE ROLE betterwork_loader LOGIN NOSUPERUSER BYPASSRLS'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'betterwork_loader')\gexec
SELECT 'GRANT betterwork TO betterwork_loader'
 WHERE NOT pg_has_role('betterwork_loader', 'betterwork', 'MEMBER')\gexec
SQL
}
# The read replica the tests start (tests/replica.py) streams from this server over loopback:
# allow replication connections there, as every other loopback connection already is.
allow_loopback_replication() {  # $1 = libpq connection options of a superuser
  local hba
  hba=$(psql $1 -Atc "SHOW hba_file" -d postgres 2>/dev/null) || return 0
  if [ -w "$hba" ] && ! grep -qE '^[[:space:]]*host[[:space:]]+replication[[:space:]]+[^[:space:]]+[[:space:]]+127\.0\.0\.1/32' "$hba"; then
    echo "host replication all 127.0.0.1/32 trust" >> "$hba"
    psql $1 -d postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
  fi
}
if [ -z "${DATABASE_URL:-}" ]; then
  if [ "${EMBEDDED_SERVICES:-0}" != 1 ] && pg_isready -q -h 127.0.0.1 -p 5432; then
    ensure_app_role "-h 127.0.0.1 -p 5432 -U postgres"
    if [ "${SETUP_DEV:-0}" = 1 ]; then allow_loopback_replication "-h 127.0.0.1 -p 5432 -U postgres"; fi
    export DATABASE_URL="postgres://betterwork@127.0.0.1:5432/betterwork"
    say "using PostgreSQL on 127.0.0.1:5432"
  else
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PGDATA="$VAR/pg"; PGSOCK="$VAR/pgsock"; PGPORT_EMBEDDED=54329
    as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
    mkdir -p "$PGDATA" "$PGSOCK"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA" "$PGSOCK" && chmod 700 "$PGDATA"
    [ -f "$PGDATA/PG_VERSION" ] || as_pg "$PGBIN/initdb -D $PGDATA -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    as_pg "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -o \"-p $PGPORT_EMBEDDED -k $PGSOCK -c listen_addresses=127.0.0.1\" start" >/dev/null
    STARTED+=("INT:$(head -1 "$PGDATA/postmaster.pid")")
    ensure_app_role "-h 127.0.0.1 -p $PGPORT_EMBEDDED -U postgres"
    export DATABASE_URL="postgres://betterwork@127.0.0.1:$PGPORT_EMBEDDED/betterwork"
    say "started a private PostgreSQL cluster in var/pg on 127.0.0.1:$PGPORT_EMBEDDED"
  fi
fi

# 4. Redis: REDIS_URL if set; else 127.0.0.1:6379 if it answers; else a private one on 63790.
if [ -z "${REDIS_URL:-}" ]; then
  if [ "${EMBEDDED_SERVICES:-0}" != 1 ] && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    export REDIS_URL="redis://127.0.0.1:6379/0"
    say "using Redis on 127.0.0.1:6379"
  else
    redis-server --port 63790 --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --dir "$VAR" --pidfile "$VAR/redis.pid" --logfile "$VAR/redis.log"
    for _ in $(seq 50); do redis-cli -p 63790 ping >/dev/null 2>&1 && break; sleep 0.1; done
    STARTED+=("TERM:$(cat "$VAR/redis.pid")")
    export REDIS_URL="redis://127.0.0.1:63790/0"
    say "started a private Redis on 127.0.0.1:63790"
  fi
fi

# 5. Translations are compiled from the .po files on every set-up.
if compgen -G "locale/*/LC_MESSAGES/*.po" >/dev/null; then
  DEBUG=1 .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var -v 0
fi
