"""Which upstream bodies we serve from our origin, as pure functions on types and bytes.

Anything served from our host runs with our origin's privileges in a browser, so an upstream
that sends HTML (or SVG, which can carry script) must never have it served as such.
"""

from __future__ import annotations

import re

# Images: what <img> needs; no SVG.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif", "image/avif"})
IMAGE_ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif"

# Segments (and EXT-X-MAP init sections, EXT-X-KEY keys): media or opaque bytes.
_SEGMENT_TYPES = frozenset(
    {"video/mp2t", "video/mp4", "audio/mp4", "audio/aac", "audio/mpeg", "application/mp4"}
)
_OPAQUE_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})  # S3's default
_RANGE = re.compile(r"^bytes=(\d{1,15})?-(\d{1,15})?$")


def media_type(header: str | None) -> str:
    """'Image/PNG; charset=x' -> 'image/png'; '' when missing."""
    return (header or "").split(";", 1)[0].strip().lower()


def segment_type(header: str | None) -> str | None:
    """The Content-Type to serve a segment with, or None if the upstream type is refused."""
    kind = media_type(header)
    if not kind or kind in _OPAQUE_TYPES:
        return "application/octet-stream"
    if kind in _SEGMENT_TYPES:
        return kind
    return None


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes really are (by magic number), if it is one we serve."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        # ISO BMFF: major brand at 8..12, compatible brands after the minor version.
        box_size = int.from_bytes(data[:4], "big")
        brands = data[8:12] + data[16 : max(16, min(box_size, 64))]
        if any(brands[i : i + 4] in (b"avif", b"avis") for i in range(0, len(brands), 4)):
            return "image/avif"
    return None


def image_type(declared: str | None, data: bytes) -> str | None:
    """The type to serve an image with: the declared type must be an image type we allow and
    the bytes must be one too (served as what they are). None means refuse."""
    if media_type(declared) not in IMAGE_TYPES:
        return None
    return sniff_image(data)


def range_header(value: str | None) -> str | None:
    """A single `bytes=a-b` range to pass upstream, or None (invalid ranges are ignored)."""
    if not value:
        return None
    value = value.strip()
    match = _RANGE.match(value)
    if not match or not (match.group(1) or match.group(2)):
        return None
    return value
