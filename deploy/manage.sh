#!/bin/sh
# manage.py as the service runs it: as the user "parti", in the app directory, with
# /etc/parti-site/env read by systemd itself, so every value means exactly what it means
# to the unit's EnvironmentFile= (a shell would treat $, quotes and # its own way).
#   sudo /srv/parti-site/app/deploy/manage.sh migrate
set -eu
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE=${ENV_FILE:-/etc/parti-site/env}
APP_USER=${APP_USER:-parti}

# A terminal (--pty) only for the commands that ask questions or run until Ctrl-C. Both
# --pty and --pipe read whatever waits on a terminal, so the other commands get no input
# from it: the next lines of a pasted block then still reach the shell. Piped input (not a
# terminal) is passed on as it is.
io=--pipe
interactive=no
case "${1:-} " in
    createsuperuser\ | changepassword\ | shell\ | dbshell\ | simulate_parti\ ) interactive=yes ;;
esac
case " $* " in *" --noinput "* | *" --no-input "*) interactive=no ;; esac
if [ -t 0 ]; then
    if [ $interactive = yes ]; then io=--pty; else exec </dev/null; fi
fi

# createsuperuser --noinput reads these from the caller's environment (README, "The admin").
pass=
for name in DJANGO_SUPERUSER_USERNAME DJANGO_SUPERUSER_PASSWORD DJANGO_SUPERUSER_EMAIL; do
    if env | grep -q "^$name="; then pass="$pass --setenv=$name"; fi
done

# shellcheck disable=SC2086 # $pass is a list of --setenv=NAME words
exec systemd-run --quiet --wait --collect "$io" $pass --uid="$APP_USER" --gid="$APP_USER" \
    --property=EnvironmentFile="$ENV_FILE" --property=WorkingDirectory="$APP_DIR" \
    "$APP_DIR/.venv/bin/python" manage.py "$@"
