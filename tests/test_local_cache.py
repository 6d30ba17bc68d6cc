"""The embedded instance's cache holds at most MAX_BYTES of values, whatever their number,
and forgets the least recently used first."""

import pickle

import pytest

from parti_site.local_cache import BoundedLocMemCache

KB = 1024


@pytest.fixture
def make_cache(request):
    def make(max_bytes, max_entries=1000, name=None):
        name = name or f"bounded-{request.node.name}"
        options = {"MAX_BYTES": max_bytes, "MAX_ENTRIES": max_entries}
        cache = BoundedLocMemCache(name, {"OPTIONS": options})
        cache.clear()
        return cache

    return make


def held(cache):
    """The bytes really in the store, to check the running count against."""
    return sum(len(value) for value in cache._cache.values())


def test_big_values_never_exceed_the_byte_ceiling(make_cache):
    cache = make_cache(max_bytes=100 * KB)
    for i in range(50):
        cache.set(f"list-{i}", b"x" * (10 * KB))
    assert cache.bytes_held <= 100 * KB
    assert cache.bytes_held == held(cache)
    assert cache.get("list-49") is not None  # the newest stay
    assert cache.get("list-0") is None  # the oldest went


def test_the_least_recently_read_goes_first(make_cache):
    cache = make_cache(max_bytes=35 * KB)
    for name in "abc":
        cache.set(name, b"x" * (10 * KB))
    cache.get("a")  # a is now more recent than b
    cache.set("d", b"x" * (10 * KB))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("d") is not None


def test_a_value_bigger_than_the_whole_ceiling_is_not_kept(make_cache):
    cache = make_cache(max_bytes=10 * KB)
    cache.set("small", 1)
    cache.set("huge", b"x" * (20 * KB))
    assert cache.get("huge") is None
    assert cache.get("small") == 1


def test_replacing_deleting_and_counting_keep_the_count_true(make_cache):
    cache = make_cache(max_bytes=1000 * KB, max_entries=20)
    cache.set("k", b"x" * KB)
    cache.set("k", b"x" * (5 * KB))  # replaced, not added twice
    assert cache.bytes_held == held(cache) == len(pickle.dumps(b"x" * (5 * KB), 5))
    assert cache.add("counter", 1)
    for _ in range(300):
        cache.incr("counter")
    assert cache.get("counter") == 301
    for i in range(60):  # past MAX_ENTRIES: LocMemCache culls by entries too
        cache.set(f"n{i}", i)
    assert len(cache._cache) <= 20
    cache.delete("n59")
    assert cache.bytes_held == held(cache)
    cache.clear()
    assert cache.bytes_held == 0


def test_expired_entries_stop_counting_once_read(make_cache):
    cache = make_cache(max_bytes=100 * KB)
    cache.set("old", b"x" * (10 * KB), timeout=-1)
    assert cache.get("old") is None
    assert cache.bytes_held == held(cache) == 0


def test_instances_of_one_name_share_the_store_and_the_count(make_cache):
    first = make_cache(max_bytes=100 * KB, name="bounded-shared")
    second = BoundedLocMemCache("bounded-shared", {"OPTIONS": {"MAX_BYTES": 100 * KB}})
    first.set("a", b"x" * KB)
    assert second.get("a") == b"x" * KB
    assert second.bytes_held == first.bytes_held == held(first)
