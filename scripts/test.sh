#!/usr/bin/env bash
# Installs the development tools and runs everything CI runs: lint, types, checks, all tests.
export SETUP_DEV=1
source "$(dirname "$0")/setup.sh"
export DJANGO_ALLOW_ASYNC_UNSAFE=true   # Playwright's sync API beside live_server tests
step() { local start=$SECONDS; echo "[test] $*"; "$@"; echo "[test] '$1 ${2:-}' took $((SECONDS - start))s"; }
step ruff check .
step mypy betterwork factories buyers
step env DEBUG=1 python manage.py check
step env DEBUG=1 python manage.py makemigrations --check --dry-run
step env DEBUG=0 SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=betterwork.example.org python manage.py check --deploy --fail-level WARNING
set +e
pytest -p no:cacheprovider "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "[test] no tests were collected" >&2; exit 1; fi
exit $rc
