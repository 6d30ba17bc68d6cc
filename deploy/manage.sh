#!/bin/sh
# manage.py as the service runs it: as the user "parti", with /etc/parti-site/env.
#   sudo /srv/parti-site/app/deploy/manage.sh migrate
set -eu
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE=${ENV_FILE:-/etc/parti-site/env}
APP_USER=${APP_USER:-parti}
cd "$APP_DIR"
exec runuser -u "$APP_USER" -- sh -c \
    'set -a; . "$0"; set +a; exec .venv/bin/python manage.py "$@"' "$ENV_FILE" "$@"
