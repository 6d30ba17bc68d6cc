"""The WebSocket host `ws-backend.parti.com` (facts §2): a stub for now.

It accepts connections on `/` and records each socket's subscriptions (the
`{"subscribe_options": {Topic: {...}}}` messages of facts §2.2), but sends nothing yet: real
frames carry no topic field and no acknowledgement is documented, so silence is faithful.
A later change pushes events to `hub.subscribers(topic)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .common import SIM, new_app


@dataclass
class Connection:
    socket: web.WebSocketResponse
    subscriptions: list[tuple[str, dict]] = field(default_factory=list)


class Hub:
    """Open sockets and what they subscribed to."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []

    def subscribers(self, topic: str, **params) -> list[web.WebSocketResponse]:
        return [
            c.socket
            for c in self.connections
            if any(
                t == topic and all(o.get(k) == v for k, v in params.items())
                for t, o in c.subscriptions
            )
        ]

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.socket.close()


async def socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()  # no application ping/pong (facts §2.1)
    await ws.prepare(request)
    hub: Hub = request.app[SIM].hub
    connection = Connection(ws)
    hub.connections.append(connection)
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                options = json.loads(message.data).get("subscribe_options") or {}
            except (ValueError, AttributeError):
                continue  # UNKNOWN what parti does with garbage; ignore it
            for topic, params in options.items():
                connection.subscriptions.append((topic, params or {}))
    finally:
        hub.connections.remove(connection)
    return ws


def make_app(sim) -> web.Application:
    app = new_app(sim, "ws")
    app.router.add_get("/", socket)
    return app
