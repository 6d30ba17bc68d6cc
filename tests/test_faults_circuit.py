"""The circuit breaker per endpoint: opens after failures in a row, fails fast (stale copy
at once, or the friendly page), lets one probe through after the cool-down, closes on its
success, doubles the cool-down on its failure, obeys Retry-After; shown on the health
pages."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache

from parti_site.upstream import api, client
from parti_site.upstream.circuit import Breakers, State, breakers
from parti_site.upstream.errors import Kind, UpstreamError
from tests.faults_support import api_requests, clear_faults, fault, timed
from tests.test_pages_errors import later  # noqa: F401 - a fixture

FEATURED = "/featured_channels"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(settings):
    settings.PARTI_CIRCUIT_FAILURES = 3
    settings.PARTI_CIRCUIT_COOLDOWN = 10
    settings.PARTI_CIRCUIT_COOLDOWN_MAX = 35
    settings.PARTI_DEADLINE = 2
    settings.PARTI_CONNECT_TIMEOUT = 1
    return Clock()


def error(status=500, retry_after=None, kind=Kind.HTTP_STATUS):
    return UpstreamError(kind, "x", status=status, retry_after=retry_after)


def fail(circuits, times, endpoint="live", **kwargs):
    for _ in range(times):
        circuits.allow(endpoint)
        circuits.failure(endpoint, error(**kwargs))


def rejected(circuits, endpoint="live") -> bool:
    try:
        circuits.allow(endpoint)
    except UpstreamError as caught:
        assert caught.kind == Kind.CIRCUIT_OPEN
        return True
    return False


# --- the state machine, on a fake clock ------------------------------------------------------


def test_it_opens_after_failures_in_a_row_and_fails_fast(clock):
    circuits = Breakers(clock=clock)
    fail(circuits, 2)
    circuits.allow("live")
    circuits.success("live")  # a success resets the count
    fail(circuits, 2)
    assert circuits.state("live") == State.CLOSED
    fail(circuits, 1)
    assert circuits.state("live") == State.OPEN
    assert rejected(circuits) and rejected(circuits)
    assert not rejected(circuits, "featured")  # per endpoint
    snapshot = circuits.snapshot()["live"]
    assert snapshot.failures == 3 and snapshot.rejected == 2 and snapshot.cooldown == 10


def test_after_the_cool_down_one_probe_goes_and_its_success_closes(clock):
    circuits = Breakers(clock=clock)
    fail(circuits, 3)
    clock.now += 9.9
    assert rejected(circuits)
    clock.now += 0.2
    circuits.allow("live")  # the probe
    assert circuits.state("live") == State.HALF_OPEN
    assert rejected(circuits)  # everyone else while it is out
    circuits.success("live")
    assert circuits.state("live") == State.CLOSED
    assert not rejected(circuits)


def test_a_failed_probe_doubles_the_cool_down_up_to_the_maximum(clock):
    circuits = Breakers(clock=clock)
    fail(circuits, 3)
    cooldowns = []
    for _ in range(4):
        clock.now += circuits.snapshot()["live"].cooldown
        fail(circuits, 1)  # the probe fails
        cooldowns.append(circuits.snapshot()["live"].cooldown)
        assert circuits.state("live") == State.OPEN
    assert cooldowns == [20, 35, 35, 35]
    clock.now += 35
    circuits.allow("live")
    circuits.success("live")
    fail(circuits, 3)
    assert circuits.snapshot()["live"].cooldown == 10  # back to the start once closed


def test_a_probe_that_never_reports_is_replaced(clock):
    circuits = Breakers(clock=clock)
    fail(circuits, 3)
    clock.now += 10
    circuits.allow("live")
    clock.now += 3.5  # longer than any call can take (connect + deadline + 1)
    assert rejected(circuits)
    clock.now += 0.6
    circuits.allow("live")


def test_retry_after_opens_it_at_once_for_that_long(clock):
    circuits = Breakers(clock=clock)
    fail(circuits, 1, status=429, retry_after=4)
    assert circuits.state("live") == State.OPEN
    clock.now += 3.9
    assert rejected(circuits)
    clock.now += 0.2
    circuits.allow("live")
    circuits.failure("live", error(status=429, retry_after=1000))
    assert circuits.snapshot()["live"].cooldown == 35  # capped


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_answers_about_one_request_do_not_count(clock, status):
    circuits = Breakers(clock=clock)
    fail(circuits, 10, status=status)
    assert circuits.state("live") == State.CLOSED


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 403},
        {"status": 429},
        {"status": 503},
        {"kind": Kind.TIMEOUT, "status": None},
        {"kind": Kind.NOT_JSON, "status": None},
        {"kind": Kind.UNREACHABLE, "status": None},
    ],
)
def test_failures_that_say_parti_is_failing_count(clock, kwargs):
    circuits = Breakers(clock=clock)
    fail(circuits, 3, **kwargs)
    assert circuits.state("live") == State.OPEN


def test_a_not_found_probe_closes_it(clock):
    circuits = Breakers(clock=clock)
    fail(circuits, 3)
    clock.now += 10
    circuits.allow("live")
    circuits.failure("live", error(status=404))  # parti answered
    assert circuits.state("live") == State.CLOSED


# --- against the simulated parti -----------------------------------------------------------


@pytest.fixture
def site(settings, parti):
    settings.PARTI_DEADLINE = 1.0
    settings.PARTI_CONNECT_TIMEOUT = 0.5
    settings.PARTI_CIRCUIT_FAILURES = 5
    settings.PARTI_CIRCUIT_COOLDOWN = 0.5
    yield parti
    clear_faults(parti.control_url)


def test_repeated_failures_stop_the_calls_then_a_probe_closes_the_circuit(site):
    fault(site.control_url, FEATURED, mode="status", status=502)
    for _ in range(5):
        with pytest.raises(UpstreamError):
            client.featured_channels()
    assert breakers.state("featured") == State.OPEN
    asked = api_requests(site.control_url)
    for _ in range(20):
        started = time.monotonic()
        with pytest.raises(UpstreamError) as caught:
            client.featured_channels()
        assert caught.value.kind == Kind.CIRCUIT_OPEN
        assert time.monotonic() - started < 0.05
    assert api_requests(site.control_url) == asked  # parti was left alone
    client.asset_prices()  # other endpoints are asked as usual

    time.sleep(0.55)
    with pytest.raises(UpstreamError) as caught:
        client.featured_channels()  # the probe, still failing
    assert caught.value.kind == Kind.HTTP_STATUS
    assert breakers.state("featured") == State.OPEN
    assert breakers.snapshot()["featured"].cooldown == 1.0  # doubled

    clear_faults(site.control_url)
    time.sleep(1.05)
    assert client.featured_channels()  # the probe succeeds
    assert breakers.state("featured") == State.CLOSED


def test_retry_after_from_parti_is_the_cool_down(site):
    fault(site.control_url, FEATURED, mode="status", status=429, retry_after=1)
    with pytest.raises(UpstreamError):
        client.featured_channels()
    assert breakers.state("featured") == State.OPEN  # at once, not after 5
    clear_faults(site.control_url)
    time.sleep(0.6)  # longer than PARTI_CIRCUIT_COOLDOWN, shorter than Retry-After
    with pytest.raises(UpstreamError) as caught:
        client.featured_channels()
    assert caught.value.kind == Kind.CIRCUIT_OPEN
    time.sleep(0.5)
    assert client.featured_channels()


def test_with_the_circuit_open_a_hanging_parti_costs_pages_nothing(
    client,
    site,
    settings,
    later,  # noqa: F811
):
    settings.PARTI_CIRCUIT_FAILURES = 2
    settings.PARTI_CIRCUIT_COOLDOWN = 30
    assert client.get("/featured").status_code == 200
    later(2 * 3600)
    fault(site.control_url, mode="hang", seconds=30)
    slow = [timed(client.get, "/featured")[1] for _ in range(2)]
    assert all(0.9 < s < 1.6 for s in slow), slow  # the deadline, twice
    for _ in range(5):
        response, elapsed = timed(client.get, "/featured")
        assert elapsed < 0.2
        assert response.status_code == 200
        assert "Shown as of " in response.content.decode()
    cache.clear()
    response, elapsed = timed(client.get, "/featured")
    assert elapsed < 0.2
    assert response.status_code == 503
    page = response.content.decode()
    assert "parti is not answering" in page and "giving it a short rest" in page


def test_an_open_circuit_is_in_healthz(client, site):
    fault(site.control_url, FEATURED, mode="status", status=500)
    for _ in range(5):
        with pytest.raises(UpstreamError):
            api.featured()
    status = client.get("/healthz").json()["upstream"]
    assert status["featured"]["circuit"] == "open"


@pytest.mark.django_db
def test_an_open_circuit_is_on_the_admin_health_page(admin_client, site):
    fault(site.control_url, FEATURED, mode="status", status=500)
    for _ in range(5):
        with pytest.raises(UpstreamError):
            api.featured()
    with pytest.raises(UpstreamError):
        api.featured()  # failed fast
    page = admin_client.get("/admin/instance/upstreamhealth/").content.decode()
    row = re.search(r'<tr data-endpoint="featured".*?</tr>', page, re.DOTALL).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert 'data-circuit="open"' in row
    assert "after 5 failures in a row" in text
    assert "1 call answered without asking parti" in text
    live = re.search(r'<tr data-endpoint="live".*?</tr>', page, re.DOTALL).group(0)
    assert 'data-circuit="closed"' in live
