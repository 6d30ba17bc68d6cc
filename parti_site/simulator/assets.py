"""The asset host `assets.parti.com` (facts §3.3): images named `{user_id}_{uuid}.png`.

PNGs are drawn here (a striped card in a colour derived from the name) for every name the world
hands out; the recorded placeholders `/asset.png` and `/asset.jpeg` are served too, so recorded
values resolve. CORS and caching headers of the real host: UNKNOWN, so none.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from pathlib import Path

from aiohttp import web

from .common import new_app, world
from .hls import missing
from .world import digest

PLACEHOLDER_JPEG = Path(__file__).with_name("placeholder.jpeg")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=128)
def png(seed: str, width: int, height: int) -> bytes:
    """A small RGB PNG: diagonal stripes in a colour picked by `seed`."""
    r, g, b = digest(seed)[:3]
    dark, light = bytes((r // 2, g // 2, b // 2)), bytes((r, g, b))
    rows = []
    for y in range(height):
        row = b"".join(light if ((x + y) // 12) % 2 else dark for x in range(width))
        rows.append(b"\x00" + row)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


async def image(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == "asset.jpeg":
        return web.Response(body=PLACEHOLDER_JPEG.read_bytes(), content_type="image/jpeg")
    if name == "asset.png":
        return web.Response(body=png("asset", 320, 180), content_type="image/png")
    spec = world(request).assets.get(name)
    if spec is None:
        return missing()
    return web.Response(body=png(*spec), content_type="image/png")


def make_app(sim) -> web.Application:
    app = new_app(sim, "assets")
    app.router.add_get("/{name}", image)
    return app
