"""Configuration comes from the environment; production refuses to run without a real key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "key", [None, "", "change-me", "django-insecure-abc", "x", "short-key-19-chars!"]
)
def test_production_refuses_a_missing_or_placeholder_secret_key(key):
    env = {"DEBUG": "0"}
    if key is not None:
        env["SECRET_KEY"] = key
    result = run_check(**env)
    assert result.returncode != 0
    assert "SECRET_KEY is missing, a placeholder or shorter than" in result.stderr


def test_a_real_key_starts_and_debug_needs_none():
    assert run_check(DEBUG="0", SECRET_KEY="a-long-random-value-" * 3).returncode == 0
    assert run_check(DEBUG="1").returncode == 0


def test_the_defaults_are_embedded_and_redis_switches_cache_and_layer():
    show = (
        "from django.conf import settings as s; "
        "print(s.PARTI_API_URL, s.DATABASES['default']['ENGINE'], "
        "s.CACHES['default']['BACKEND'], s.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("PARTI_", "REDIS", "DATA"))}
    plain.update(DEBUG="1")
    run = [sys.executable, "manage.py", "shell", "--no-imports", "-c", show]
    default = subprocess.run(run, cwd=ROOT, env=plain, capture_output=True, text=True).stdout
    assert default.split() == [
        "https://api-backend.parti.com/parti_v2",
        "django.db.backends.sqlite3",
        "parti_site.local_cache.BoundedLocMemCache",
        "parti_site.live.layers.InMemoryChannelLayer",
    ]
    scaled = dict(plain, REDIS_URL="redis://127.0.0.1:6379/3", DATABASE_URL="postgres://u@h/db")
    out = subprocess.run(run, cwd=ROOT, env=scaled, capture_output=True, text=True).stdout
    assert out.split()[1:] == [
        "django.db.backends.postgresql",
        "parti_site.cache_backend.TolerantRedisCache",
        "channels_redis.core.RedisChannelLayer",
    ]
