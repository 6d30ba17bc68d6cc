#!/bin/sh
# manage.py as the service runs it: as the user "parti", in the app directory, with
# /etc/parti-site/env read by systemd itself, so every value means exactly what it means
# to the unit's EnvironmentFile= (a shell would treat $, quotes and # its own way).
#   sudo /srv/parti-site/app/deploy/manage.sh migrate
set -eu
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE=${ENV_FILE:-/etc/parti-site/env}
APP_USER=${APP_USER:-parti}
# A terminal for interactive commands (createsuperuser, shell), a pipe for the others.
if [ -t 0 ]; then io=--pty; else io=--pipe; fi
exec systemd-run --quiet --wait --collect "$io" --uid="$APP_USER" --gid="$APP_USER" \
    --property=EnvironmentFile="$ENV_FILE" --property=WorkingDirectory="$APP_DIR" \
    "$APP_DIR/.venv/bin/python" manage.py "$@"
