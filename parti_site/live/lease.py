"""Who holds the upstream sockets when several Daphne processes share Redis.

A lease is a Redis key set with `SET key token NX PX ttl`; the holder renews it (only while
the value is still its token) every ttl/3, and a process that cannot renew stops at once.
When the holder dies, the key expires and the next candidate's acquire succeeds, so another
process takes over within about one ttl. Without Redis there is one process: it always holds.
"""

from __future__ import annotations

import logging
import os
import secrets

log = logging.getLogger("parti_site.live")

# Renew or release only while the key still holds our token (compare-and-set in one step).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LocalLease:
    """One process, one relay: always the holder."""

    ttl = 5.0
    token = "local"

    async def acquire(self) -> bool:
        return True

    async def renew(self) -> bool:
        return True

    async def release(self) -> None:
        return None

    async def holder(self) -> str | None:
        return self.token

    async def close(self) -> None:
        return None


class RedisLease:
    def __init__(self, url: str, key: str, ttl: float = 5.0):
        import redis.asyncio as redis  # only needed with REDIS_URL

        self.redis = redis.from_url(url, socket_timeout=max(ttl / 3, 0.5))
        self.key = key
        self.ttl = ttl
        # The pid lets an operator (and the two-process test) see which process holds it.
        self.token = f"{os.getpid()}:{secrets.token_hex(6)}"
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)

    @property
    def _ms(self) -> int:
        return int(self.ttl * 1000)

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self._ms))

    async def renew(self) -> bool:
        return bool(await self._renew(keys=[self.key], args=[self.token, self._ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.token])

    async def holder(self) -> str | None:
        value = await self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    async def close(self) -> None:
        await self.redis.aclose()
