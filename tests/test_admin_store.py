"""store.current(): one cache get per call, the database only when a change was published,
the defaults when the database cannot be read."""

import asyncio
import time
from types import SimpleNamespace

import pytest
from django.db import DatabaseError

from parti_site.instance import store
from parti_site.instance.models import CacheSetting, Switches
from parti_site.upstream.policy import DEFAULT_POLICIES, policy_for
from tests.admin_forms import committed_db


class CountingCache:
    def __init__(self, cache):
        self.cache = cache
        self.gets = 0

    def get(self, *args, **kwargs):
        self.gets += 1
        return self.cache.get(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.cache, name)


@committed_db
def test_a_saved_row_is_read_once_then_served_from_memory(django_assert_num_queries, monkeypatch):
    CacheSetting.objects.filter(endpoint="live").update(ttl=5)
    store.publish()  # what a save does after its commit
    assert store.current().policy("live").ttl == 5
    counting = CountingCache(store.cache)
    monkeypatch.setattr(store, "cache", counting)
    with django_assert_num_queries(0):
        for _ in range(10):
            assert policy_for("live").ttl == 5
    assert counting.gets == 10  # the generation number, nothing else


@committed_db
def test_saving_a_row_publishes_it():
    setting = CacheSetting.objects.get(endpoint="prices")
    setting.ttl = 7
    setting.save()
    assert store.current().policy("prices").ttl == 7
    switches = Switches.objects.get(pk=1)
    switches.banner = "  Hello  "
    switches.save()
    assert store.current().banner == "Hello"


@committed_db
def test_a_change_published_elsewhere_is_seen_on_the_next_call():
    assert store.current().policy("live").ttl == 30
    # Another process saved a row: the database changed and the generation moved on.
    CacheSetting.objects.filter(endpoint="live").update(ttl=11)
    assert store.current().policy("live").ttl == 30  # nothing published yet
    store.cache.incr(store.GENERATION_KEY)  # as publish() in that process, minus its snapshot
    assert store.current().policy("live").ttl == 11  # read from the database


@committed_db
def test_the_snapshot_is_read_from_the_database_in_async_code():
    store.current()
    CacheSetting.objects.filter(endpoint="live").update(ttl=12)
    store.cache.incr(store.GENERATION_KEY)

    async def read():
        return store.current().policy("live").ttl

    assert asyncio.run(read()) == 12


@pytest.mark.django_db
def test_without_a_readable_database_the_defaults_stand_in(monkeypatch, client, parti):
    def broken():
        raise DatabaseError("no such table: instance_cachesetting")

    monkeypatch.setattr(store, "_read_rows", broken)
    snapshot = store.current()
    assert snapshot.from_defaults
    assert snapshot.policies == DEFAULT_POLICIES
    assert client.get("/live").status_code == 200
    assert client.get("/about").status_code == 200


@committed_db
def test_the_database_is_tried_again_after_a_few_seconds(monkeypatch):
    calls = []
    real = store._read_rows

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("down")
        return real()

    clock = [1000.0]
    monkeypatch.setattr(store, "_read_rows", flaky)
    fake_time = SimpleNamespace(monotonic=lambda: clock[0], time_ns=time.time_ns)
    monkeypatch.setattr(store, "time", fake_time)
    assert store.current().from_defaults
    assert store.current().from_defaults and len(calls) == 1  # not hammered
    clock[0] += store.RETRY_SECONDS + 0.1
    assert not store.current().from_defaults
    assert len(calls) == 2


def test_without_a_database_at_all_pages_still_work(client, parti):
    # No django_db mark: database access raises; the defaults apply.
    assert store.current().from_defaults
    assert client.get("/live").status_code == 200


class DeadCache:
    """What cache_backend.TolerantRedisCache answers while Redis is down."""

    def get(self, key, default=None, version=None):
        return default

    def add(self, *args, **kwargs):
        return True

    def set(self, *args, **kwargs):
        return None

    def incr(self, *args, **kwargs):
        raise ValueError("missing")


@committed_db
def test_while_the_cache_is_down_the_rows_are_read_now_and_then(
    monkeypatch, django_assert_num_queries
):
    CacheSetting.objects.filter(endpoint="live").update(ttl=13)
    monkeypatch.setattr(store, "_seen", None)
    monkeypatch.setattr(store, "cache", DeadCache())
    assert store.current().policy("live").ttl == 13
    with django_assert_num_queries(0):
        assert store.current().policy("live").ttl == 13
