"""Security headers the app sends itself, so they hold behind any reverse proxy.

- Content-Security-Policy: django-csp with `settings.CONTENT_SECURITY_POLICY` as the base
  (own scripts and styles only, `blob:` media and workers for hls.js, no frames, no
  plugins), plus per request what the base cannot know: the WebSocket URL of the host that
  was asked (`wss://` behind TLS), and on pages in direct segment mode the media hosts
  the player fetches segments from (`media_sources`).
- Permissions-Policy: no camera, microphone, location, payment, USB or interest topics;
  fullscreen, autoplay and picture-in-picture stay allowed for our own player.

Referrer-Policy, X-Content-Type-Options, Cross-Origin-Opener-Policy and X-Frame-Options
come from Django's SecurityMiddleware and XFrameOptionsMiddleware (settings.py).
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost

from parti_site.media import allowlist, modes

from .hybrid import HybridMiddleware

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
)


def media_sources(entries: list[str]) -> list[str]:
    """PARTI_MEDIA_HOSTS entries as CSP sources: `.live-video.net` -> `https://*.live-video.net`,
    `watch.parti.com` -> `https://watch.parti.com`, `http://127.0.0.1:8102` as it is.
    Malformed entries (which allow nothing in the allow-list either) are left out."""
    sources = []
    for raw in entries:
        entry = allowlist._parse_entry(raw)  # the allow-list's own parser: both agree
        if entry is None:
            continue
        host = f"[{entry.host}]" if ":" in entry.host else entry.host
        if host.startswith("."):
            host = "*" + host
        port = "" if entry.port == allowlist.DEFAULT_PORTS[entry.scheme] else f":{entry.port}"
        source = f"{entry.scheme}://{host}{port}"
        if source not in sources:
            sources.append(source)
    return sources


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        extra: dict[str, list[str]] = {}
        try:
            host = request.get_host()
        except DisallowedHost:
            host = ""
        if host:
            extra["connect-src"] = [("wss://" if request.is_secure() else "ws://") + host]
        if _is_html(response) and modes.segment_mode(request) == modes.DIRECT:
            segments = media_sources(settings.PARTI_MEDIA_HOSTS)
            extra["connect-src"] = extra.get("connect-src", []) + segments
            extra["media-src"] = segments  # native HLS (Safari) loads segments as media
        if extra:
            update = dict(parts.update or {})
            for directive, sources in extra.items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts


class PermissionsPolicyMiddleware(HybridMiddleware):
    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    async def __acall__(self, request):
        response = await self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
