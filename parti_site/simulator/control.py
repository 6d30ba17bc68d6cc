"""The control plane for tests and the demo (not a parti host).

GET  /_sim/state              what is simulated: URLs, clock, live channels (fresh tokens)
POST /_sim/reset              rebuild the world from the recordings, zero the counts
GET  /_sim/requests[?host=]   {"path?query": count} for the API host (or playback, variant,
                              segment, vod, assets, ws, control)
POST /_sim/requests/reset     zero the counts
POST /_sim/clock              {"advance": seconds} or {"offset": seconds}: move the clock
                              the simulated hosts use (live window, token expiry)
POST /_sim/token-lifetime     {"seconds": n}: lifetime of playback tokens minted from now on
POST|GET|DELETE /_sim/faults, /_sim/ws/faults   fault switches (faults.py)
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from . import faults
from .common import SIM, json_response, new_app

routes = web.RouteTableDef()


def state(sim) -> dict:
    w = sim.world
    return {
        "base_port": sim.base_port,
        "urls": asdict(w.urls),
        "clock_offset": w.clock_offset,
        "now": w.now(),
        "token_lifetime": w.token_lifetime,
        "live_channels": [
            {
                "user_id": c.user_id,
                "channel_id": c.channel_id,
                "livestream_id": c.livestream_id,
                "event_id": c.event_id,
                "playback_url": w.playback_url(c.channel_id),
                "playback_auth_token": w.make_token(c.channel_id),
            }
            for c in w.channels.values()
            if c.live
        ],
        "websocket_connections": len(sim.hub.connections),
    }


@routes.get("/_sim/state")
async def get_state(request):
    return json_response(state(request.app[SIM]))


@routes.post("/_sim/reset")
async def reset(request):
    sim = request.app[SIM]
    sim.reset()
    return json_response(state(sim))


@routes.get("/_sim/requests")
async def requests(request):
    counts = request.app[SIM].request_counts.get(request.query.get("host", "api"), {})
    return json_response(dict(counts))


@routes.post("/_sim/requests/reset")
async def reset_requests(request):
    request.app[SIM].request_counts.clear()
    return json_response({})


async def number_from_body(request: web.Request, *names: str) -> tuple[str, float]:
    try:
        body = await request.json()
        name = next(n for n in names if n in body)
        return name, float(body[name])
    except (ValueError, TypeError, StopIteration, AttributeError):
        raise web.HTTPBadRequest(text=f"expected a JSON object with one of {names}") from None


@routes.post("/_sim/clock")
async def clock(request):
    world = request.app[SIM].world
    name, value = await number_from_body(request, "advance", "offset")
    world.clock_offset = world.clock_offset + value if name == "advance" else value
    return json_response({"clock_offset": world.clock_offset, "now": world.now()})


@routes.post("/_sim/token-lifetime")
async def token_lifetime(request):
    world = request.app[SIM].world
    _, world.token_lifetime = await number_from_body(request, "seconds")
    return json_response({"token_lifetime": world.token_lifetime})


def make_app(sim) -> web.Application:
    app = new_app(sim, "control")
    app.add_routes(routes)
    app.add_routes(sim.hub.control_routes())
    app.add_routes(faults.control_routes(sim))
    return app
