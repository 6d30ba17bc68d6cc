"""Signed, expiring tokens for upstream URLs that travel through our pages (the wire format).

A token is `django.core.signing.Signer(salt=<purpose>, sep="~").sign_object([url, expiry])`
with compression: URL-safe base64 (plus "." and "~"), safe as one URL path segment. The
salt differs per purpose, so an image token cannot be replayed as a segment token. The
expiry is inside the signed payload, so `unsign_url` needs no max_age.

Expiries are rounded up to a step (a quarter of max_age), so the same upstream URL signed
again soon after gives the same token: pages rendered a minute apart keep identical image
URLs and browsers can cache them.
"""

from __future__ import annotations

import math
import time
import zlib

from django.core import signing

from .allowlist import ForbiddenURL, check_url

# Purposes; each is its own salt.
IMAGE = "image"
PLAYLIST = "playlist"
SEGMENT = "segment"
KEY = "key"

_SALT_PREFIX = "parti_site.media.signing:"
_SEP = "~"


class InvalidMediaToken(signing.BadSignature):
    """The token is tampered, expired, for another purpose, or not a token at all."""


def _now() -> float:
    return time.time()  # patched in tests


def _signer(purpose: str) -> signing.Signer:
    if not purpose or not isinstance(purpose, str):
        raise ValueError("purpose must be a non-empty string")
    return signing.Signer(salt=_SALT_PREFIX + purpose, sep=_SEP)


def sign_url(upstream_url: str, purpose: str, max_age: int) -> str:
    """Return a token for `upstream_url`, valid for at least `max_age` seconds.

    The URL is checked (and normalised) first; raises ForbiddenURL for hosts we would
    never fetch, so no page can carry a token for them.
    """
    if max_age <= 0:
        raise ValueError("max_age must be positive")
    url = check_url(upstream_url)
    step = max(1, max_age // 4)
    expiry = math.ceil((_now() + max_age) / step) * step
    return _signer(purpose).sign_object([url, signing.b62_encode(expiry)], compress=True)


def unsign_url(token: str, purpose: str) -> str:
    """Return the upstream URL in a valid token for `purpose`, checked against the allow-list.

    Raises InvalidMediaToken if the token is tampered, expired, for another purpose,
    malformed, or names a host the allow-list no longer permits.
    """
    if not isinstance(token, str) or not token or len(token) > 8192:
        raise InvalidMediaToken("not a media token")
    try:
        payload = _signer(purpose).unsign_object(token)
    except signing.BadSignature as exc:
        raise InvalidMediaToken("bad signature") from exc
    except (ValueError, zlib.error) as exc:  # base64/zlib/UTF-8/JSON junk under a valid signature
        raise InvalidMediaToken("malformed token") from exc
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(isinstance(part, str) for part in payload)
    ):
        raise InvalidMediaToken("malformed token")
    url, encoded_expiry = payload
    try:
        expiry = signing.b62_decode(encoded_expiry)
    except (ValueError, IndexError) as exc:
        raise InvalidMediaToken("malformed token") from exc
    if _now() > expiry:
        raise InvalidMediaToken("token expired")
    # Defense in depth: the allow-list may have changed since signing.
    try:
        return check_url(url)
    except ForbiddenURL as exc:
        raise InvalidMediaToken(f"URL no longer allowed: {exc.reason}") from exc
