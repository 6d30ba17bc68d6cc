"""The sync-and-async middleware boilerplate of Django's docs, written once.

Subclasses define `__call__` (sync) and `__acall__` (async); `__call__` hands over to
`__acall__` when the stack is async, so a request under Daphne never hops threads here.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class HybridMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
