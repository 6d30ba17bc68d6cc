"""Work to do when the server stops. Daphne has no ASGI lifespan, but its Twisted reactor
runs on our asyncio loop and fires "before shutdown" triggers, waiting for the Deferreds
they return: long-lived things close there (the media fetcher's HTTP session, the live
relay) instead of being destroyed pending at exit. Outside Daphne (tests, management
commands) nothing is registered."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def at_shutdown(close: Callable[[], Awaitable[None]]) -> bool:
    """Run `close()` in the loop before a running Daphne stops; False when there is none."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not getattr(reactor, "running", False):
        return False
    from twisted.internet.defer import Deferred

    async def guarded() -> None:
        try:
            await close()
        except Exception as error:  # noqa: BLE001 - stopping anyway
            log.warning("closing %s at shutdown failed: %s", close, error)

    reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(guarded()))
    )
    return True
