"""Settings, read only from environment variables (README lists each with its default).

The defaults are embedded and just run: SQLite, local-memory cache, in-memory channel layer.
`REDIS_URL` and `DATABASE_URL` switch to the scaled-out setup.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
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


def env_rate_limits(name: str, default: str) -> list[tuple[str, int, int]]:
    """Entries like `/hls/=600/60` (path prefix, requests, seconds); "off" for none."""
    if env(name).lower() in {"off", "none", "0"}:
        return []
    rules = []
    for item in env_list(name, default):
        try:
            prefix, rate = item.split("=", 1)
            requests, seconds = (int(part) for part in rate.split("/", 1))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not prefix=requests/seconds") from None
        if not prefix.startswith("/") or requests < 1 or seconds < 1:
            raise ImproperlyConfigured(f"{name}: {item!r} is not prefix=requests/seconds")
        rules.append((prefix, requests, seconds))
    return rules


DEBUG = env_bool("DEBUG")

PLACEHOLDER_SECRET_KEYS = {"", "change-me", "changeme", "secret", "placeholder", "django-insecure"}
# The key signs every media URL we hand out, so a short one is as bad as none.
MIN_SECRET_KEY_LENGTH = 20
SECRET_KEY = env("SECRET_KEY")
if (
    SECRET_KEY.lower() in PLACEHOLDER_SECRET_KEYS
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH
):
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing, a placeholder or shorter than "
            f"{MIN_SECRET_KEY_LENGTH} characters. Set SECRET_KEY to a long random value "
            "(see README), or DEBUG=1 for development."
        )
    SECRET_KEY = "django-insecure-development-only-key"

# --- the public address, TLS and proxies (README: "Production settings") -------------------
# The address visitors use, e.g. https://parti.example.org: absolute links (feeds), a trusted
# CSRF origin, and the defaults of ALLOWED_HOSTS and SECURE_COOKIES.
PUBLIC_URL = env("PUBLIC_URL").rstrip("/")
_public = urlsplit(PUBLIC_URL)
if PUBLIC_URL and (
    _public.scheme not in ("http", "https") or not _public.hostname or _public.path or _public.query
):
    raise ImproperlyConfigured("PUBLIC_URL must look like https://parti.example.org (no path)")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _public.hostname or "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = ([PUBLIC_URL] if PUBLIC_URL else []) + env_list("CSRF_TRUSTED_ORIGINS")

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", _public.scheme == "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # local monitoring may ask over plain http
SECURE_HSTS_SECONDS = int(env_float("SECURE_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# Preloading is the operator's call (lists in browsers are slow to leave), so check --deploy
# does not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Only behind a proxy that sets (overwrites) X-Forwarded-Proto, as deploy/nginx does.
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST")
# Addresses (CIDRs) of our own reverse proxies: only from them is X-Forwarded-For believed
# (web/clients.py), for rate limits and LOG_CLIENT_IPS. Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or CIDR"
        ) from None
# Per-client limits on the expensive paths (web/ratelimit.py). A player fetches a segment
# and a playlist every couple of seconds, so the media limits leave room for a household.
# The admin's login form is limited too, so a password cannot be guessed at wire speed.
RATE_LIMITS = env_rate_limits(
    "RATE_LIMITS",
    "/hls/=600/60,/img/=600/60,/search=30/60,/feeds/=60/60,/calendar=60/60,/admin/login/=10/60",
)
# Visitors' addresses appear in the request log only when the operator opts in.
LOG_CLIENT_IPS = env_bool("LOG_CLIENT_IPS")

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
# With a cached copy to show, a page waits this long for parti, then shows the copy while
# the call goes on in the background (upstream/cache.py).
PARTI_PATIENCE = env_float("PARTI_PATIENCE", 1.5)
# Circuit breaker per endpoint (upstream/circuit.py): after this many failures in a row stop
# asking parti for the cool-down (doubled per failed probe, up to the maximum), per process.
PARTI_CIRCUIT_FAILURES = int(env_float("PARTI_CIRCUIT_FAILURES", 5))
PARTI_CIRCUIT_COOLDOWN = env_float("PARTI_CIRCUIT_COOLDOWN", 30.0)
PARTI_CIRCUIT_COOLDOWN_MAX = env_float("PARTI_CIRCUIT_COOLDOWN_MAX", 300.0)
# "direct": players fetch segments from parti's CDN; "proxied": everything via us (media/modes.py).
SEGMENT_MODE = env("SEGMENT_MODE", "direct")
# Viewers may switch themselves to proxied segments on /settings (more private, more traffic).
ALLOW_VIEWER_PROXIED = env_bool("ALLOW_VIEWER_PROXIED", True)

# --- live pushes (parti_site/live/) --------------------------------------------------------
# Off: no upstream WebSocket at all (pages still render server-side snapshots).
LIVE_RELAY = env_bool("LIVE_RELAY", True)
# With REDIS_URL, the one process holding this lease keeps the upstream sockets; another
# takes over within about this many seconds when it dies.
LIVE_LEASE_TTL = env_float("LIVE_LEASE_TTL", 5.0)
LIVE_PING_INTERVAL = env_float("LIVE_PING_INTERVAL", 20.0)
# Reconnects to parti's WebSocket wait base * 2^attempt (jittered), at most the maximum.
LIVE_BACKOFF_BASE = env_float("LIVE_BACKOFF_BASE", 0.5)
LIVE_BACKOFF_MAX = env_float("LIVE_BACKOFF_MAX", 30.0)
# Events queued per browser socket before a client that falls behind is dropped.
LIVE_CLIENT_QUEUE = int(env_float("LIVE_CLIENT_QUEUE", 100))
# Browser sockets one client (address, IPv6 by /64) may hold open at once, per process; 0: no
# limit. A few tabs fit; a script opening a hundred watch sockets does not.
LIVE_MAX_SOCKETS_PER_CLIENT = int(env_float("LIVE_MAX_SOCKETS_PER_CLIENT", 8))

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
    "parti_site.instance",
    "parti_site.pages",
    "parti_site.media",
    "parti_site.live",
    "parti_site.simulator",
]

MIDDLEWARE = [
    "parti_site.web.request_log.RequestLogMiddleware",  # outermost: every answer is logged
    "django.middleware.security.SecurityMiddleware",
    "parti_site.web.headers.ContentSecurityPolicyMiddleware",
    "parti_site.web.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "parti_site.web.ratelimit.RateLimitMiddleware",
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
            # Django's RedisCache, answering misses while Redis is down (cache_backend.py).
            "BACKEND": "parti_site.cache_backend.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "parti-site",
            # A dead or unreachable Redis must cost a page milliseconds, not seconds.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py 8 defaults socket_timeout to 5 s, the same as
                        # channels_redis's 5 s BZPOPMIN, so an idle consumer's receive would
                        # fail with TimeoutError.
                        "socket_timeout": 15,
                        "socket_connect_timeout": 1,
                        # After a Redis restart every pooled connection is dead, and the
                        # async pool hands them out unchecked: without a retry each one
                        # failed one command ("Connection closed by server"). One retry on a
                        # fresh connection; only for connection errors, so a hanging Redis
                        # is not waited on twice.
                        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                    }
                ],
                "prefix": "parti-site",
            },
        }
    }
else:
    CACHES = {
        "default": {
            # LocMemCache with a ceiling in bytes too (local_cache.py).
            "BACKEND": "parti_site.local_cache.BoundedLocMemCache",
            "LOCATION": "parti-site",
            "OPTIONS": {"MAX_ENTRIES": 5000, "MAX_BYTES": 64 * 1024 * 1024},
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "parti_site.live.layers.InMemoryChannelLayer"}}

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
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# What pages may load (web/headers.py adds, per request, our WebSocket host and, in direct
# segment mode, the media hosts). No inline scripts or styles anywhere, the admin included.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        # hls.js feeds the video element from MediaSource (blob:) and adds its text tracks
        # as <track src="data:,WEBVTT">.
        "media-src": [SELF, "blob:", "data:"],
        "worker-src": [SELF, "blob:"],  # hls.js runs its demuxer in a blob: worker
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
    }
}

# systemd sets JOURNAL_STREAM when stdout/stderr go to the journal, which stamps every line
# itself: then the lines carry no time of their own.
_log_format = "%(levelname)s %(name)s %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": _log_format if env("JOURNAL_STREAM") else "%(asctime)s " + _log_format}
    },
    # The request log (web/request_log.py) has a line for every answer; Django's own
    # "Not Found: /x" warnings would double each 4xx. Its 5xx errors, with traceback, stay.
    "filters": {
        "server_errors_only": {"()": "parti_site.web.request_log.ServerErrorsOnly"},
        "drop_aborted_requests": {"()": "parti_site.web.request_log.DropAbortedRequests"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "django.request": {"filters": ["server_errors_only"]},
        # Scanners and monitors asking for the bare address get a 400 and a request line;
        # Django would add an error with a traceback for each.
        "django.security.DisallowedHost": {"filters": ["server_errors_only"]},
        "asyncio": {"filters": ["drop_aborted_requests"]},
    },
}
