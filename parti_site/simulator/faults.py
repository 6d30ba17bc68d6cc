"""Fault switches: the simulated parti on its worst day, switched from the control port.

HTTP API faults (the API host only):

    POST   /_sim/faults  {"endpoint": "/featured_channels", "mode": "status", "status": 502}
    GET    /_sim/faults  the faults in force, with how often each was applied
    DELETE /_sim/faults  all of them (`?endpoint=...`: those of one endpoint)

`endpoint` is "*" (every route) or a path prefix, either of the whole path
("/parti_v2/profile/featured_channels") or below /parti_v2/profile ("/featured_channels").
The newest matching fault wins. Optional `"times": N` removes a fault after N requests.
Modes:

- `status`: answer `status` (default 500) with a small JSON body; `retry_after` adds a
  `Retry-After` header (e.g. status 429, retry_after 2).
- `html200`: an HTML block page with status 200, as a CDN's bot check sends.
- `invalid_json`: status 200, `application/json`, a body cut off mid-object.
- `empty`: status 200, an empty body.
- `shape`: the real answer, reshaped: `"shape": "swap"` (default) turns a list into an
  object and an object into a one-element list; `"shape": "rename"` renames keys
  (`"rename": {"old": "new"}`, default user_id -> userId and user_name -> userName) in
  every object of the answer.
- `patch`: the real answer with `fields` ({"key": value}) set wherever an object has that
  key, at any depth: hostile names, titles and URLs in otherwise well-formed data.
- `body`: status 200 with exactly `body` as the JSON answer.
- `hang`: wait `seconds` (default 30), then answer normally.
- `drip`: send the real answer one byte every `interval` seconds (default 1).

WebSocket faults (the WebSocket host):

    POST   /_sim/ws/faults  {"mode": "refuse"}
    GET    /_sim/ws/faults
    DELETE /_sim/ws/faults  back to normal (silenced sockets read again)

- `refuse`: handshakes fail, with HTTP `status` (default 503) or, with `"reset": true`,
  the TCP connection cut before any answer. Open sockets are left alone.
- `drop`: every open socket is cut in the middle of a frame (a frame header announcing
  more bytes than follow, then the TCP connection aborted). With `"repeat": true` sockets
  opened later are cut too, `after` seconds (default 0.5) after they open.
- `silent`: no frames to anyone. `"pings": true` (default) still answers protocol pings,
  so the socket looks healthy; `"pings": false` stops reading the sockets too, so pings go
  unanswered (and nothing the client sends is read) until the fault is cleared.
- `junk`: every open socket gets a burst of junk: a binary frame, text that is not JSON,
  JSON of the wrong shapes, a frame of `size` characters (default 300 000). With
  `"repeat": true` sockets opened later get the burst too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .common import SIM, json_response

if TYPE_CHECKING:
    from .ws import Connection, Hub

log = logging.getLogger("parti_site.simulator")

PROFILE = "/parti_v2/profile"
API_MODES = ("status", "html200", "invalid_json", "empty", "shape", "patch", "body", "hang", "drip")
WS_MODES = ("refuse", "drop", "silent", "junk")
DEFAULT_RENAME = {"user_id": "userId", "user_name": "userName"}
BLOCK_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<h1>Checking your browser before accessing parti.com</h1>"
    "<p>This process is automatic. Please enable JavaScript and cookies.</p>"
    "<script>window.__challenge = 1</script></body></html>"
)


# --- the HTTP API ----------------------------------------------------------------------------


@dataclass
class Fault:
    endpoint: str
    mode: str
    options: dict = field(default_factory=dict)
    times: int | None = None
    applied: int = 0

    def matches(self, path: str) -> bool:
        if self.endpoint == "*":
            return True
        if self.endpoint.startswith("/parti_v2"):
            return path.startswith(self.endpoint)
        return path.removeprefix(PROFILE).startswith(self.endpoint)

    def describe(self) -> dict:
        return {
            "endpoint": self.endpoint,
            "mode": self.mode,
            **self.options,
            "times": self.times,
            "applied": self.applied,
        }


class ApiFaults:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        # Bumped by clear(): hung and dripping answers in flight finish at once.
        self.generation = 0

    def add(self, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        mode = body.get("mode")
        if mode not in API_MODES:
            raise web.HTTPBadRequest(text=f"mode must be one of {API_MODES}")
        endpoint = body.get("endpoint", "*")
        if not isinstance(endpoint, str) or not endpoint:
            raise web.HTTPBadRequest(text="endpoint must be '*' or a path prefix")
        times = body.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise web.HTTPBadRequest(text="times must be a positive integer")
        options = {k: v for k, v in body.items() if k not in ("endpoint", "mode", "times")}
        fault = Fault(endpoint, mode, options, times)
        self.faults.append(fault)
        return fault

    def clear(self, endpoint: str | None = None) -> int:
        before = len(self.faults)
        self.faults = [f for f in self.faults if endpoint is not None and f.endpoint != endpoint]
        self.generation += 1
        return before - len(self.faults)

    async def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False if the faults were cleared meanwhile."""
        generation = self.generation
        give_up = asyncio.get_running_loop().time() + seconds
        while self.generation == generation:
            left = give_up - asyncio.get_running_loop().time()
            if left <= 0:
                return True
            await asyncio.sleep(min(left, 0.1))
        return False

    def take(self, path: str) -> Fault | None:
        """The fault for this request, if any (counted as applied)."""
        for fault in reversed(self.faults):
            if fault.matches(path):
                fault.applied += 1
                if fault.times is not None and fault.applied >= fault.times:
                    self.faults.remove(fault)
                return fault
        return None

    def describe(self) -> list[dict]:
        return [fault.describe() for fault in self.faults]


@web.middleware
async def inject(request: web.Request, handler):
    """API middleware: answer as the fault in force says (if any)."""
    faults: ApiFaults | None = getattr(request.app[SIM], "faults", None)
    fault = faults.take(request.path) if faults is not None else None
    if fault is None:
        return await handler(request)
    options = fault.options
    mode = fault.mode
    if mode == "status":
        status = int(options.get("status", 500))
        headers = {}
        if options.get("retry_after") is not None:
            headers["Retry-After"] = str(options["retry_after"])
        return json_response({"detail": "simulated failure"}, status=status, headers=headers)
    if mode == "html200":
        return web.Response(text=BLOCK_PAGE, content_type="text/html")
    if mode == "invalid_json":
        return web.Response(body=b'{"user_id": 348242, "user_name": "Jack', headers=_JSON_HEADERS)
    if mode == "empty":
        return web.Response(body=b"", headers=_JSON_HEADERS)
    if mode == "body":
        return json_response(options.get("body"))
    if mode == "hang":
        await faults.wait(float(options.get("seconds", 30)))
        return await handler(request)
    response = await handler(request)
    if mode == "drip":
        return await _drip(request, response, faults, float(options.get("interval", 1.0)))
    data = _json_of(response)
    if data is _NOT_JSON:
        return response
    if mode == "shape":
        if options.get("shape", "swap") == "rename":
            data = _rename(data, options.get("rename") or DEFAULT_RENAME)
        else:
            data = {"results": data} if isinstance(data, list) else [data]
    elif mode == "patch":
        data = _patch(data, options.get("fields") or {})
    return json_response(data, status=response.status)


_JSON_HEADERS = {"Content-Type": "application/json"}
_NOT_JSON = object()


def _json_of(response: web.StreamResponse) -> Any:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return _NOT_JSON
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


def _rename(data: Any, names: dict) -> Any:
    if isinstance(data, list):
        return [_rename(item, names) for item in data]
    if isinstance(data, dict):
        return {names.get(k, k): _rename(v, names) for k, v in data.items()}
    return data


def _patch(data: Any, fields: dict) -> Any:
    if isinstance(data, list):
        return [_patch(item, fields) for item in data]
    if isinstance(data, dict):
        return {k: fields[k] if k in fields else _patch(v, fields) for k, v in data.items()}
    return data


async def _drip(request: web.Request, response, faults: ApiFaults, interval: float):
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or not body:
        body = b"{}"
    drip = web.StreamResponse(status=response.status, headers=_JSON_HEADERS)
    drip.content_length = len(body)
    await drip.prepare(request)
    with contextlib.suppress(ConnectionError, RuntimeError):
        for index in range(len(body)):
            await drip.write(body[index : index + 1])
            if not await faults.wait(interval):
                await drip.write(body[index + 1 :])  # cleared: the rest at once
                break
        await drip.write_eof()
    return drip


# --- the WebSocket -------------------------------------------------------------------------


def junk_frames(size: int) -> list[str | bytes]:
    return [
        b"\x00\xff\xfe binary",
        "not json {",
        "[1, 2",
        "",
        "null",
        "42",
        '"a string"',
        "[]",
        "{}",
        '{"user_id": "x", "livestream_id": [], "viewers_count": "many", "event_title": {}}',
        '[{"display_symbol": null, "price": "NaN"}, 7, "x"]',
        '{"chat_id": null, "post_content": ["<script>window.__pwned = 1</script>"]}',
        '{"deep": ' + "[" * 200 + '"down"' + "]" * 200 + "}",
        "x" * size,
    ]


class SocketFaults:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.refuse: dict | None = None
        self.silent: dict | None = None
        self.drop_new: dict | None = None
        self.junk_new: dict | None = None
        self.counts: dict[str, int] = {}

    # hooks called by ws.Hub

    def refusal(self, request: web.Request) -> web.StreamResponse | None:
        """For Hub.handle, before the handshake: a refusal while `refuse` is on."""
        if self.refuse is None:
            return None
        self._count("refused")
        if self.refuse.get("reset") and request.transport is not None:
            request.transport.abort()
        return web.Response(status=int(self.refuse.get("status", 503)), text="refused")

    @property
    def silenced(self) -> bool:
        """For Hub.broadcast: while silent, no frame goes out."""
        return self.silent is not None

    def opened(self, connection: Connection) -> None:
        """For Hub.handle, after the handshake: what a socket opened during a fault gets."""
        if self.silent is not None and not self.silent.get("pings", True):
            self._pause(connection)
        if self.drop_new is not None:
            after = float(self.drop_new.get("after", 0.5))
            asyncio.get_running_loop().call_later(after, self._cut, connection)
        if self.junk_new is not None:
            asyncio.create_task(self._junk(connection, int(self.junk_new.get("size", 300_000))))

    # switching

    async def add(self, body: Any) -> dict:
        if not isinstance(body, dict) or body.get("mode") not in WS_MODES:
            raise web.HTTPBadRequest(text=f"expected {{'mode': one of {WS_MODES}}}")
        mode = body["mode"]
        connections = list(self.hub.connections)
        if mode == "refuse":
            self.refuse = body
        elif mode == "silent":
            self.silent = body
            if not body.get("pings", True):
                for connection in connections:
                    self._pause(connection)
        elif mode == "drop":
            self.drop_new = body if body.get("repeat") else None
            for connection in connections:
                self._cut(connection)
        elif mode == "junk":
            self.junk_new = body if body.get("repeat") else None
            size = int(body.get("size", 300_000))
            await asyncio.gather(*(self._junk(c, size) for c in connections))
        return {"affected": len(connections), **self.describe()}

    def clear(self) -> dict:
        self.refuse = self.silent = self.drop_new = self.junk_new = None
        for connection in list(self.hub.connections):
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                with contextlib.suppress(RuntimeError):
                    transport.resume_reading()
        return self.describe()

    def describe(self) -> dict:
        return {
            "refuse": self.refuse,
            "silent": self.silent,
            "drop": self.drop_new,
            "junk": self.junk_new,
            "counts": dict(self.counts),
        }

    # the faults themselves

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _pause(self, connection: Connection) -> None:
        transport = connection.transport
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(RuntimeError):
                transport.pause_reading()
                self._count("paused")

    def _cut(self, connection: Connection) -> None:
        transport = connection.transport
        if transport is None or transport.is_closing():
            return
        # A text frame announcing 200 payload bytes, followed by 23 of them, then nothing.
        transport.write(bytes([0x81, 126]) + (200).to_bytes(2, "big") + b'{"user_id": 1, "user_na')
        asyncio.get_running_loop().call_later(0.05, transport.abort)
        self._count("dropped")

    async def _junk(self, connection: Connection, size: int) -> None:
        for frame in junk_frames(size):
            with contextlib.suppress(ConnectionError, RuntimeError):
                if isinstance(frame, bytes):
                    await connection.ws.send_bytes(frame)
                else:
                    await connection.ws.send_str(frame)
        self._count("junk_bursts")


# --- control routes ------------------------------------------------------------------------


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="body is not JSON") from None


def control_routes(sim) -> list[web.RouteDef]:
    async def add_api(request):
        fault = sim.faults.add(await _body(request))
        return json_response({"added": fault.describe(), "faults": sim.faults.describe()})

    async def list_api(request):
        return json_response(sim.faults.describe())

    async def clear_api(request):
        removed = sim.faults.clear(request.query.get("endpoint"))
        return json_response({"removed": removed})

    async def add_ws(request):
        return json_response(await sim.hub.faults.add(await _body(request)))

    async def list_ws(request):
        return json_response(sim.hub.faults.describe())

    async def clear_ws(request):
        return json_response(sim.hub.faults.clear())

    return [
        web.post("/_sim/faults", add_api),
        web.get("/_sim/faults", list_api),
        web.delete("/_sim/faults", clear_api),
        web.post("/_sim/ws/faults", add_ws),
        web.get("/_sim/ws/faults", list_ws),
        web.delete("/_sim/ws/faults", clear_ws),
    ]
