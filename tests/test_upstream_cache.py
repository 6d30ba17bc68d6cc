"""Caching: one upstream call for many concurrent requests, stale copies when parti fails,
errors never cached, one generation bump invalidates everything."""

import threading
import time

import pytest

from parti_site.upstream import cache as upstream_cache
from parti_site.upstream.errors import Kind, UpstreamError


class Upstream:
    """A fake fetch that counts calls and can be made to fail or to be slow."""

    def __init__(self, delay=0.0):
        self.calls = 0
        self.delay = delay
        self.failing = False
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.failing:
            raise UpstreamError(Kind.UNREACHABLE, "down")
        return ["answer", self.calls]


def test_a_second_request_within_the_ttl_is_served_from_cache():
    upstream = Upstream()
    first = upstream_cache.cached("live", "k", upstream)
    second = upstream_cache.cached("live", "k", upstream)
    assert upstream.calls == 1
    assert first.data == second.data
    assert not second.stale


def test_concurrent_misses_make_one_upstream_call():
    upstream = Upstream(delay=0.3)
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(upstream_cache.cached("live", "k", upstream))
        )
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert upstream.calls == 1
    assert len(results) == 20
    assert all(result.data == ["answer", 1] for result in results)


def test_after_the_ttl_the_upstream_is_asked_again(monkeypatch):
    upstream = Upstream()
    upstream_cache.cached("live", "k", upstream)
    later = time.time() + 31  # the live TTL is 30 s
    monkeypatch.setattr(upstream_cache.time, "time", lambda: later)
    assert upstream_cache.cached("live", "k", upstream).data == ["answer", 2]


def test_when_parti_fails_the_last_good_copy_is_served_as_stale(monkeypatch):
    upstream = Upstream()
    upstream_cache.cached("live", "k", upstream)
    upstream.failing = True
    later = time.time() + 60
    monkeypatch.setattr(upstream_cache.time, "time", lambda: later)
    result = upstream_cache.cached("live", "k", upstream)
    assert result.stale
    assert result.data == ["answer", 1]
    assert result.error.kind == Kind.UNREACHABLE


class HangingUpstream:
    """A fetch that answers only when the test lets it."""

    def __init__(self):
        self.release = threading.Event()
        self.answered = threading.Event()

    def __call__(self):
        self.release.wait(10)
        self.answered.set()
        return ["late answer"]


def test_a_slow_parti_shows_the_copy_and_its_late_answer_serves_the_next_visitor(
    monkeypatch, settings
):
    settings.PARTI_PATIENCE = 0.1
    upstream_cache.cached("live", "k", Upstream())
    later = time.time() + 31
    monkeypatch.setattr(upstream_cache.time, "time", lambda: later)
    hanging = HangingUpstream()
    shown = upstream_cache.cached("live", "k", hanging)
    assert not hanging.answered.is_set()  # the visitor did not wait for parti
    assert shown.stale and shown.data == ["answer", 1]
    assert shown.error.kind == Kind.TIMEOUT
    hanging.release.set()
    assert hanging.answered.wait(5)
    nobody = Upstream()
    nobody.failing = True
    for _ in range(100):  # the background call stores its answer, then unlocks
        fetched = upstream_cache.cached("live", "k", nobody)
        if fetched.data == ["late answer"]:
            break
        time.sleep(0.05)
    assert fetched.data == ["late answer"] and not fetched.stale
    assert nobody.calls == 0


def test_with_many_refreshes_already_waiting_on_parti_the_copy_answers_at_once(
    monkeypatch, settings
):
    upstream = Upstream()
    upstream_cache.cached("live", "k", upstream)
    later = time.time() + 31
    monkeypatch.setattr(upstream_cache.time, "time", lambda: later)
    monkeypatch.setattr(upstream_cache, "_background_slots", threading.BoundedSemaphore(1))
    upstream_cache._background_slots.acquire()  # every slot taken by a hung call
    shown = upstream_cache.cached("live", "k", upstream)
    assert shown.stale and shown.data == ["answer", 1]
    assert upstream.calls == 1  # parti was not asked once more
    upstream_cache._background_slots.release()  # the hung call ends
    assert upstream_cache.cached("live", "k", upstream).data == ["answer", 2]


def test_with_no_copy_the_visitor_waits_for_a_slow_parti(settings):
    settings.PARTI_PATIENCE = 0.05
    fetched = upstream_cache.cached("live", "k", Upstream(delay=0.3))
    assert fetched.data == ["answer", 1] and not fetched.stale


def test_with_no_copy_the_error_is_raised_and_not_cached():
    upstream = Upstream()
    upstream.failing = True
    with pytest.raises(UpstreamError):
        upstream_cache.cached("live", "k", upstream)
    upstream.failing = False
    assert upstream_cache.cached("live", "k", upstream).data == ["answer", 2]


def test_waiters_on_a_failing_fetch_get_the_error_without_calling_again():
    upstream = Upstream(delay=0.3)
    upstream.failing = True
    errors = []

    def request():
        try:
            upstream_cache.cached("live", "k", upstream)
        except UpstreamError as error:
            errors.append(error)

    threads = [threading.Thread(target=request) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert upstream.calls == 1
    assert len(errors) == 5


class Unknown:
    """parti's answer for an id it does not know."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        raise UpstreamError(Kind.HTTP_STATUS, "404 Not Found", status=404)


def test_an_unknown_id_costs_one_call_a_minute_not_one_per_request(monkeypatch):
    unknown = Unknown()
    for _ in range(5):
        with pytest.raises(UpstreamError) as raised:
            upstream_cache.cached("profile", "999", unknown)
        assert raised.value.is_not_found
    assert unknown.calls == 1
    later = time.time() + upstream_cache.MISSING_SECONDS + 1
    monkeypatch.setattr(upstream_cache.time, "time", lambda: later)
    upstream_cache.forget("profile", "999")  # the cache's own clock is not patched
    with pytest.raises(UpstreamError):
        upstream_cache.cached("profile", "999", unknown)
    assert unknown.calls == 2


def test_bumping_the_generation_invalidates_everything():
    upstream = Upstream()
    upstream_cache.cached("live", "k", upstream)
    upstream_cache.bump_generation()
    upstream_cache.cached("live", "k", upstream)
    assert upstream.calls == 2


def test_different_keys_are_cached_apart():
    upstream = Upstream()
    upstream_cache.cached("live", "a", upstream)
    upstream_cache.cached("live", "b", upstream)
    upstream_cache.cached("recent", "a", upstream)
    assert upstream.calls == 3
