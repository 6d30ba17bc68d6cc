"""Small helpers shared by the simulated hosts: the app key, JSON replies, request counting,
byte ranges."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .server import SimulatedParti
    from .world import World

SIM: web.AppKey[SimulatedParti] = web.AppKey("sim")
HOST_NAME = web.AppKey("host_name", str)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def world(request: web.Request) -> World:
    return request.app[SIM].world


def json_response(data: object, status: int = 200, headers: dict | None = None) -> web.Response:
    # Exactly "application/json" (aiohttp would add "; charset=utf-8" for text bodies).
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(
        body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


@web.middleware
async def count_requests(request: web.Request, handler):
    """Count every request per host and raw path+query, for the control plane."""
    counts: dict[str, Counter] = request.app[SIM].request_counts
    counts.setdefault(request.app[HOST_NAME], Counter())[request.raw_path] += 1
    return await handler(request)


def bytes_response(
    request: web.Request, data: bytes, content_type: str, headers: dict | None = None
) -> web.Response:
    """Serve bytes with `Accept-Ranges` and single-range `Range` support (206/416)."""
    headers = {"Accept-Ranges": "bytes", **(headers or {})}
    header = request.headers.get("Range")
    if header is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    match = _RANGE.match(header.strip())
    size = len(data)
    start = end = None
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:  # suffix range: the last N bytes
            start, end = max(size - int(match.group(2)), 0), size - 1
    if start is None or start > end or start >= size:
        return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return web.Response(
        body=data[start : end + 1], status=206, content_type=content_type, headers=headers
    )


def new_app(sim: SimulatedParti, host_name: str, *middlewares) -> web.Application:
    """An aiohttp app for one simulated host; its requests are counted under `host_name`."""
    app = web.Application(middlewares=[count_requests, *middlewares])
    app[SIM] = sim
    app[HOST_NAME] = host_name
    return app


def text_response(text: str, content_type: str, headers: dict | None = None) -> web.Response:
    return web.Response(
        body=text.encode(), headers={"Content-Type": content_type, **(headers or {})}
    )
