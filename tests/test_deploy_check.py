"""The production settings the README recommends (deploy/parti-site.env) pass Django's
deployment checklist with no warning at all, and the deployment files agree with each other."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_FILE = DEPLOY / "parti-site.env"
UNIT = DEPLOY / "systemd" / "parti-site@.service"
NGINX = DEPLOY / "nginx" / "parti-site.conf"
A_REAL_KEY = "q0C2v3gT7yZ1mS0aJwW7r5xQ4kHc9bN2eL6fR8uV1pD3sY5tG0hK7jM2nB4vX9zA"


def recommended_env() -> dict[str, str]:
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PARTI_", "SECURE_"))}
    for name in ("DEBUG", "SECRET_KEY", "REDIS_URL", "DATABASE_URL", "ALLOWED_HOSTS"):
        base.pop(name, None)
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_recommended_settings_pass_check_deploy():
    env = recommended_env()
    assert env["SECRET_KEY"] == "change-me"  # a placeholder the site refuses
    env["SECRET_KEY"] = A_REAL_KEY
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_defaults_do_not_pass_it():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=A_REAL_KEY)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_the_env_file_refuses_to_start_until_a_key_is_set():
    result = manage("check", **recommended_env())
    assert result.returncode != 0
    assert "SECRET_KEY is missing, a placeholder or shorter than" in result.stderr


def test_public_url_sets_hosts_origins_and_cookies():
    show = (
        "from django.conf import settings as s; "
        "print(s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.USE_X_FORWARDED_HOST, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        SECRET_KEY=A_REAL_KEY,
        PUBLIC_URL="https://Parti.Example.org/",
    )
    assert result.stdout.split("\n")[0] == (
        "['parti.example.org'] ['https://Parti.Example.org'] True True False None"
    )
    result = manage("check", SECRET_KEY=A_REAL_KEY, PUBLIC_URL="https://parti.example.org/sub")
    assert "PUBLIC_URL must look like https://parti.example.org" in result.stderr


def test_the_unit_the_nginx_upstreams_and_the_readme_agree():
    readme = (ROOT / "README.md").read_text()
    unit = UNIT.read_text()
    nginx = NGINX.read_text()
    ports = re.findall(r"server 127\.0\.0\.1:(\d+)", nginx)
    assert ports == ["8001", "8002", "8003"]
    for port in ports:
        assert f"parti-site@{port}" in readme
    assert "-b 127.0.0.1 -p %i" in unit
    assert "EnvironmentFile=/etc/parti-site/env" in unit
    for hardening in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
    ):
        assert hardening in unit


@pytest.mark.parametrize("path", [UNIT, ROOT / "Makefile"])
def test_daphne_runs_without_its_access_log(path):
    # Daphne's access log prints visitors' addresses; -v 0 turns it off.
    commands = [line for line in path.read_text().splitlines() if "bin/daphne" in line]
    assert commands and all("daphne -v 0" in line for line in commands)


def test_the_systemd_unit_is_valid(tmp_path):
    analyze = "/usr/bin/systemd-analyze"
    if not Path(analyze).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is not installed; .ci/run installs systemd")
        pytest.skip("systemd-analyze is not installed")
    # The unit as installed, pointing at this checkout's virtualenv.
    text = UNIT.read_text().replace("/srv/parti-site/app", str(ROOT))
    text = text.replace("User=parti", "User=root").replace("Group=parti", "Group=root")
    unit = tmp_path / "parti-site@.service"
    unit.write_text(text)
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    # verify exits 0 on unknown keys too, but names them.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stderr


def test_https_is_enforced_except_for_local_health_checks(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/live")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/live"
    assert client.get("/healthz").status_code == 200


def test_the_env_files_commented_rate_limits_are_the_real_defaults():
    # Uncommenting the line must not quietly drop a limit.
    from parti_site.settings import env_rate_limits

    lines = ENV_FILE.read_text().splitlines()
    line = next(line for line in lines if line.startswith("# RATE_LIMITS="))
    shown = line.removeprefix("# RATE_LIMITS=")
    settings_source = (ROOT / "parti_site" / "settings.py").read_text()
    default = re.search(r'"RATE_LIMITS",\s*"([^"]+)"', settings_source).group(1)
    assert env_rate_limits("UNSET_FOR_THIS_TEST", shown) == env_rate_limits("UNSET", default)
