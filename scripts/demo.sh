#!/usr/bin/env bash
# Installs everything and runs the platform with demo data: web and a Celery worker, until Ctrl-C.
source "$(dirname "$0")/setup.sh"
export DEBUG=${DEBUG:-1}
PORT=${PORT:-8000}
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py seed_demo ${SEED_ARGS:-}
mkdir -p var
# One worker for every queue, with beat inside it (the stalled-report sweeper); production runs
# beat on its own (docker-compose.yml).
.venv/bin/celery -A betterwork worker -B -s var/celerybeat-schedule --loglevel=warning --concurrency=2 -Q celery,pdf &
STARTED+=("TERM:$!")
echo
echo "Betterwork is running at http://127.0.0.1:$PORT/  (Ctrl-C stops the web server, the worker and any database it started)"
echo
.venv/bin/python manage.py runserver "127.0.0.1:$PORT" --noreload &
STARTED+=("TERM:$!")
# Waiting in the background lets Ctrl-C (or a TERM from a supervisor) reach our trap at once.
wait
