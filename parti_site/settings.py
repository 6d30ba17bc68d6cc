"""Settings, read only from environment variables (README lists each with its default).

The defaults are embedded and just run: SQLite, local-memory cache, in-memory channel layer.
`REDIS_URL` and `DATABASE_URL` switch to the scaled-out setup.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = env(name)
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

PLACEHOLDER_SECRET_KEYS = {"", "change-me", "changeme", "secret", "placeholder", "django-insecure"}
SECRET_KEY = env("SECRET_KEY")
if SECRET_KEY.lower() in PLACEHOLDER_SECRET_KEYS or SECRET_KEY.startswith("django-insecure"):
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a placeholder. Set SECRET_KEY to a long random value "
            "(see README), or DEBUG=1 for development."
        )
    SECRET_KEY = "django-insecure-development-only-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

# --- parti, the upstream -------------------------------------------------------------------
# Every host and base URL is configurable so an operator can follow parti's host moves
# (facts.md §0.1: api-backend.parti.com -> prod-api.parti.com in late 2025) without a code change.
PARTI_API_URL = env("PARTI_API_URL", "https://api-backend.parti.com/parti_v2").rstrip("/")
PARTI_WS_URL = env("PARTI_WS_URL", "wss://ws-backend.parti.com/")
PARTI_VOD_URL = env("PARTI_VOD_URL", "https://watch.parti.com/")
# Hosts the server may fetch media (playlists, segments, images) from: exact names, dot-anchored
# suffixes (".live-video.net"), or "scheme://host:port" entries that also allow plain http and
# that port (the demo lists its loopback simulator hosts this way). Both eras' hosts by default.
PARTI_MEDIA_HOSTS = env_list(
    "PARTI_MEDIA_HOSTS",
    ".live-video.net,watch.parti.com,assets.parti.com,media.parti.com",
)
PARTI_CONNECT_TIMEOUT = env_float("PARTI_CONNECT_TIMEOUT", 3.0)
# Total time one upstream call may take, body included, so a server that drips bytes
# cannot hold a worker.
PARTI_DEADLINE = env_float("PARTI_DEADLINE", 8.0)
# "direct": players fetch segments from parti's CDN; "proxied": everything via us (media/modes.py).
SEGMENT_MODE = env("SEGMENT_MODE", "direct")

# --- live pushes (parti_site/live/) --------------------------------------------------------
# Off: no upstream WebSocket at all (pages still render server-side snapshots).
LIVE_RELAY = env_bool("LIVE_RELAY", True)
# With REDIS_URL, the one process holding this lease keeps the upstream sockets; another
# takes over within about this many seconds when it dies.
LIVE_LEASE_TTL = env_float("LIVE_LEASE_TTL", 5.0)
LIVE_PING_INTERVAL = env_float("LIVE_PING_INTERVAL", 20.0)
# Events queued per browser socket before a client that falls behind is dropped.
LIVE_CLIENT_QUEUE = int(env_float("LIVE_CLIENT_QUEUE", 100))

# --- Django --------------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "parti_site.upstream",
    "parti_site.pages",
    "parti_site.media",
    "parti_site.live",
    "parti_site.simulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "parti_site.urls"
ASGI_APPLICATION = "parti_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "parti-site",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults socket_timeout to 5 s, the same as channels_redis's 5 s
            # BZPOPMIN, so an idle consumer's receive would fail with TimeoutError.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": "parti-site",
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "parti-site",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
