"""HLS playlists as pure functions on text: validate, rewrite URIs, list and filter variants.

Nothing here does I/O. The proxy views fetch a playlist, call `rewrite_playlist` with a
callback that turns each absolute upstream URI into the URI the browser should load (a signed
proxy URL, or the upstream URL itself), and serve the result.

The rule the rewriter keeps: every URI a player could load is passed through the callback.
Tags that would make a player fetch something we cannot route (content steering manifests,
SESSION-DATA JSON, interstitial asset lists) are dropped rather than passed on untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

UriKind = Literal["playlist", "segment", "key"]
RewriteUri = Callable[[str, UriKind], str]

# The fetcher stops reading at this many bytes, and text longer than this is refused here.
# A 48-hour IVS recording's rendition playlist (10 s segments) is about 1.2 MB; only the
# 1 s byte-range variants of very long recordings come near the cap.
MAX_PLAYLIST_BYTES = 4 * 1024 * 1024
MAX_PLAYLIST_LINES = 200_000

# Tags whose URI="..." attribute is rewritten, and the kind passed to the callback.
_URI_ATTRIBUTE_TAGS: dict[str, UriKind] = {
    "EXT-X-MEDIA": "playlist",
    "EXT-X-I-FRAME-STREAM-INF": "playlist",
    "EXT-X-RENDITION-REPORT": "playlist",
    "EXT-X-MAP": "segment",
    "EXT-X-PART": "segment",
    "EXT-X-PRELOAD-HINT": "segment",
    "EXT-X-KEY": "key",
    "EXT-X-SESSION-KEY": "key",
}
# Tags whose whole value is a URI (Twitch/IVS low-latency prefetch hints).
_URI_VALUE_TAGS: dict[str, UriKind] = {
    "EXT-X-PREFETCH": "segment",
    "EXT-X-TWITCH-PREFETCH": "segment",
}
# The tag that makes the next URI line a variant playlist rather than a segment.
_STREAM_INF = "EXT-X-STREAM-INF"
# EXT-X-STREAM-INF attributes naming an EXT-X-MEDIA group; the attribute is also the TYPE.
_GROUP_TYPES = ("VIDEO", "AUDIO", "SUBTITLES", "CLOSED-CAPTIONS")

# One attribute of an attribute list: NAME=value where value is a quoted string (which may
# contain commas) or runs to the next comma. Matched repeatedly from the start of the list.
_ATTRIBUTE = re.compile(r'\s*([A-Za-z0-9-]+)\s*=\s*("[^"]*"|[^,]*)\s*(?:,|$)')
_RESOLUTION = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


class PlaylistError(ValueError):
    """The text is not an HLS playlist we are willing to handle."""


@dataclass(frozen=True)
class Variant:
    """One entry of a multivariant playlist's quality ladder."""

    uri: str
    bandwidth: int | None
    width: int | None
    height: int | None
    name: str
    codecs: str | None = None
    frame_rate: float | None = None

    @property
    def resolution(self) -> str | None:
        if self.width is None or self.height is None:
            return None
        return f"{self.width}x{self.height}"


def is_playlist(text: str) -> bool:
    """True if the text starts with #EXTM3U, after an optional BOM and whitespace."""
    return isinstance(text, str) and text.lstrip("\ufeff \t\r\n").startswith("#EXTM3U")


def check_playlist(text: str) -> list[str]:
    """Validate the text and return its lines (BOM, CR and surrounding blank space removed).

    Raises PlaylistError for non-playlists (HTML error pages, JSON), oversized text or
    too many lines.
    """
    if not isinstance(text, str):
        raise PlaylistError("playlist is not text")
    # Cheap guard before splitting; the fetcher already caps the byte count.
    if len(text) > MAX_PLAYLIST_BYTES:
        raise PlaylistError(f"playlist is larger than {MAX_PLAYLIST_BYTES} bytes")
    if not is_playlist(text):
        raise PlaylistError("not an HLS playlist (no #EXTM3U header)")
    text = text.lstrip("\ufeff \t\r\n")
    if text.count("\n") >= MAX_PLAYLIST_LINES:
        raise PlaylistError(f"playlist has more than {MAX_PLAYLIST_LINES} lines")
    # splitlines() would also split on form feeds and Unicode separators; HLS lines end in
    # LF or CRLF only.
    return [line.rstrip("\r") for line in text.rstrip().split("\n")]


def rewrite_playlist(text: str, playlist_url: str, rewrite_uri: RewriteUri) -> str:
    """Return the playlist with every URI replaced by `rewrite_uri(absolute_uri, kind)`.

    `playlist_url` is the upstream URL the text came from (after redirects); relative URIs
    are resolved against it first. Unknown tags, comments and
    blank lines pass through; line endings become LF and the output ends with a newline.
    """
    lines = check_playlist(text)
    out: list[str] = []
    next_is_variant = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            out.append("")
            continue
        if not stripped.startswith("#"):
            kind: UriKind = "playlist" if next_is_variant else "segment"
            out.append(rewrite_uri(_absolute(stripped, playlist_url), kind))
            next_is_variant = False
            continue
        name, sep, value = stripped[1:].partition(":")
        if name == _STREAM_INF:
            next_is_variant = True
            out.append(line)
        elif name in _URI_ATTRIBUTE_TAGS and sep:
            out.append(
                _rewrite_uri_attribute(
                    name, value, "URI", _URI_ATTRIBUTE_TAGS[name], playlist_url, rewrite_uri
                )
            )
        elif name in _URI_VALUE_TAGS and value.strip():
            uri = _absolute(value.strip(), playlist_url)
            out.append(f"#{name}:{rewrite_uri(uri, _URI_VALUE_TAGS[name])}")
        elif name == "EXT-X-CONTENT-STEERING":
            # hls.js would fetch the steering manifest (JSON) from upstream; without the tag
            # players simply use the playlist's own URIs.
            continue
        elif name == "EXT-X-SESSION-DATA" and "URI" in _attribute_names(value):
            # A URI here points at JSON on the upstream host; VALUE= entries are kept.
            continue
        elif name == "EXT-X-DATERANGE" and "X-ASSET-LIST" in _attribute_names(value):
            # HLS interstitial with a JSON asset list that we cannot route.
            continue
        elif name == "EXT-X-DATERANGE" and "X-ASSET-URI" in _attribute_names(value):
            out.append(
                _rewrite_uri_attribute(
                    name, value, "X-ASSET-URI", "playlist", playlist_url, rewrite_uri
                )
            )
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def parse_attributes(value: str) -> dict[str, str]:
    """Parse an HLS attribute list into a dict; quotes are removed from quoted values."""
    return {name: raw for name, raw, _ in _iter_attributes(value)}


def parse_variants(text: str, playlist_url: str | None = None) -> list[Variant]:
    """The variants of a multivariant playlist, in playlist order.

    `name` comes from the NAME of the EXT-X-MEDIA whose GROUP-ID is the variant's VIDEO group,
    else the VIDEO group id, else "<height>p", else "<kbps> kbps". `uri` is as written, or
    resolved against `playlist_url` when given. A media playlist yields an empty list.
    """
    lines = check_playlist(text)
    video_names: dict[str, str] = {}
    for line in lines:
        if line.startswith("#EXT-X-MEDIA:"):
            attrs = parse_attributes(line.partition(":")[2])
            if attrs.get("TYPE", "").upper() == "VIDEO" and "GROUP-ID" in attrs:
                video_names.setdefault(attrs["GROUP-ID"], attrs.get("NAME", "").strip())

    variants: list[Variant] = []
    pending: dict[str, str] | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(f"#{_STREAM_INF}:"):
            pending = parse_attributes(stripped.partition(":")[2])
        elif pending is not None and stripped and not stripped.startswith("#"):
            uri = _absolute(stripped, playlist_url) if playlist_url else stripped
            variants.append(_make_variant(pending, uri, video_names))
            pending = None
    return variants


def filter_variants(text: str, max_height: int) -> str:
    """Remove variants taller than `max_height`, with the EXT-X-MEDIA lines only they used.

    Variants without a RESOLUTION (audio-only) are kept. If every video variant is too tall,
    the lowest one is kept so the playlist still plays. I-frame playlists above the height
    are removed too. Everything else is passed through unchanged.
    """
    lines = check_playlist(text)

    # Pair each EXT-X-STREAM-INF line with its URI line.
    entries: list[tuple[int, int, dict[str, str]]] = []  # (tag index, uri index, attributes)
    pending: tuple[int, dict[str, str]] | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(f"#{_STREAM_INF}:"):
            pending = (index, parse_attributes(stripped.partition(":")[2]))
        elif pending is not None and stripped and not stripped.startswith("#"):
            entries.append((pending[0], index, pending[1]))
            pending = None

    def height(attrs: dict[str, str]) -> int | None:
        size = _parse_resolution(attrs.get("RESOLUTION"))
        return size[1] if size else None

    too_tall = [e for e in entries if (h := height(e[2])) is not None and h > max_height]
    kept = [e for e in entries if e not in too_tall]
    if too_tall and not any(height(e[2]) is not None for e in kept):
        lowest = min(too_tall, key=lambda e: (height(e[2]) or 0, _int(e[2].get("BANDWIDTH")) or 0))
        too_tall.remove(lowest)
        kept.append(lowest)

    drop = {index for tag_index, uri_index, _ in too_tall for index in (tag_index, uri_index)}

    # A rendition group (TYPE, GROUP-ID) goes only when no remaining variant refers to it.
    def groups(group_entries) -> set[tuple[str, str]]:
        return {
            (group_type, attrs[group_type])
            for _, _, attrs in group_entries
            for group_type in _GROUP_TYPES
            if attrs.get(group_type)
        }

    removed_groups = groups(too_tall) - groups(kept)

    out: list[str] = []
    for index, line in enumerate(lines):
        if index in drop:
            continue
        stripped = line.strip()
        if stripped.startswith("#EXT-X-MEDIA:"):
            attrs = parse_attributes(stripped.partition(":")[2])
            if (attrs.get("TYPE", "").upper(), attrs.get("GROUP-ID", "")) in removed_groups:
                continue
        elif stripped.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
            h = height(parse_attributes(stripped.partition(":")[2]))
            if h is not None and h > max_height:
                continue
        out.append(line)
    return "\n".join(out) + "\n"


# --- helpers -------------------------------------------------------------------------------


def _absolute(uri: str, base: str) -> str:
    # Absolute URIs are kept byte for byte (urljoin would re-serialise them); relative ones
    # are resolved, which keeps query strings such as ?dna=... verbatim.
    if urlsplit(uri).scheme:
        return uri
    return urljoin(base, uri)


def _iter_attributes(value: str):
    position = 0
    while position < len(value):
        match = _ATTRIBUTE.match(value, position)
        if not match or match.end() == position:
            break
        raw = match.group(2).strip()
        if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
            raw = raw[1:-1]
        yield match.group(1).upper(), raw, match
        position = match.end()


def _attribute_names(value: str) -> set[str]:
    return {name for name, _, _ in _iter_attributes(value)}


def _rewrite_uri_attribute(
    tag: str,
    value: str,
    attribute: str,
    kind: UriKind,
    playlist_url: str,
    rewrite_uri: RewriteUri,
) -> str:
    """Rewrite one URI-valued attribute in place; the rest of the attribute list is kept."""
    parts: list[str] = []
    last = 0
    for name, raw, match in _iter_attributes(value):
        if name != attribute or not raw:
            continue
        start, end = match.span(2)
        new_uri = rewrite_uri(_absolute(raw, playlist_url), kind)
        parts.append(value[last:start])
        parts.append(f'"{new_uri}"')
        last = end
    parts.append(value[last:])
    return f"#{tag}:{''.join(parts)}"


def _parse_resolution(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    match = _RESOLUTION.match(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _make_variant(attrs: dict[str, str], uri: str, video_names: dict[str, str]) -> Variant:
    size = _parse_resolution(attrs.get("RESOLUTION"))
    width, height = size if size else (None, None)
    bandwidth = _int(attrs.get("BANDWIDTH"))
    group = attrs.get("VIDEO", "").strip()
    name = video_names.get(group) or group
    if not name and height:
        name = f"{height}p"
    if not name and bandwidth:
        name = f"{round(bandwidth / 1000)} kbps"
    return Variant(
        uri=uri,
        bandwidth=bandwidth,
        width=width,
        height=height,
        name=name or "default",
        codecs=attrs.get("CODECS") or None,
        frame_rate=_float(attrs.get("FRAME-RATE")),
    )
