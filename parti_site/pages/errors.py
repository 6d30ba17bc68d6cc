"""The one place where upstream failures become what a visitor sees.

- A page's main data failed with no copy left: the friendly 503 page (`unavailable`).
- parti said the thing does not exist: our 404 page.
- A section of a page failed: a small message in its place (`Results.failed`).
- A stale copy stands in: the "shown as of HH:MM UTC" notice (`Results.stale_at`).
- Live snapshots say when they were fetched (`Results.as_of`).
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from parti_site.upstream.cache import Fetched
from parti_site.upstream.errors import UpstreamError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class Results:
    """What `api.gather` answered for one page, read section by section."""

    def __init__(self, results: dict[str, Fetched | UpstreamError]):
        self._results = results
        # Section name -> readable reason, for the sections that have nothing to show.
        self.failed: dict[str, str] = {
            name: result.label
            for name, result in results.items()
            if isinstance(result, UpstreamError)
        }
        # Section name -> when its data was fetched, for the "as of HH:MM UTC" of snapshots
        # that live pushes update (ticker, live grid, viewer count, chat).
        self.as_of: dict[str, datetime] = {
            name: datetime.fromtimestamp(result.fetched_at, UTC)
            for name, result in results.items()
            if isinstance(result, Fetched)
        }

    def need(self, name: str) -> Any:
        """The data the page cannot do without; raises the UpstreamError otherwise."""
        result = self._results[name]
        if isinstance(result, UpstreamError):
            raise result
        return result.data

    def need_any(self, *names: str) -> None:
        """A page made of sections (`names`, default all) needs at least one; with none, it
        is the 503 page. The header's price ticker rides along with every page and is not
        a section."""
        sections = [
            r for n, r in self._results.items() if n in names or not names and n != "prices"
        ]
        errors = [r for r in sections if isinstance(r, UpstreamError)]
        if errors and len(errors) == len(sections):
            raise errors[0]

    def get(self, name: str, default: Any = None) -> Any:
        """A section's data, or `default` when it failed (the page shows `failed[name]`)."""
        result = self._results.get(name)
        if result is None or isinstance(result, UpstreamError):
            return default
        return result.data

    def error(self, name: str) -> UpstreamError | None:
        result = self._results.get(name)
        return result if isinstance(result, UpstreamError) else None

    @property
    def stale_at(self) -> datetime | None:
        """When the oldest stale copy on this page was fetched, or None if all are fresh."""
        return stale_at(*self._results.values())


def stale_at(*results: Fetched | UpstreamError) -> datetime | None:
    times = [r.fetched_at for r in results if isinstance(r, Fetched) and r.stale]
    return datetime.fromtimestamp(min(times), UTC) if times else None


def unavailable(request, error: UpstreamError):
    log.warning("page %s unavailable: %s", request.path, error)
    response = render(request, "pages/unavailable.html", {"error": error}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    patch_cache_control(response, no_store=True)
    return response


def answering_upstream_errors(answer):
    """A view decorator letting the view raise UpstreamError: parti's 404 becomes ours,
    anything else `answer(request, error)` (a 503)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except UpstreamError as error:
                if error.is_not_found:
                    raise Http404("parti does not know this") from None
                return answer(request, error)

        return wrapper

    return decorator


# Pages: the 503 page.
upstream_page = answering_upstream_errors(unavailable)
