import pytest

from parti_site.upstream import client as upstream_client
from parti_site.upstream.circuit import breakers
from parti_site.upstream.errors import Kind, UpstreamError
from parti_site.upstream.health import health


@pytest.fixture(autouse=True)
def fresh_health():
    health.reset()
    yield
    health.reset()


def test_it_reports_upstream_health(client):
    health.record_success("live")
    health.record_failure("featured", UpstreamError(Kind.TIMEOUT, "slow"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content.endswith(b"}\n")  # a line of its own in a terminal
    body = response.json()
    assert body["upstream"]["live"]["calls"] == 1
    assert body["upstream"]["live"]["failing"] is False
    assert body["upstream"]["live"]["last_success"]
    assert body["upstream"]["featured"] == {
        "calls": 1,
        "failures": 1,
        "failing": True,
        "last_success": None,
        "last_failure_kind": "timeout",
        "circuit": "closed",  # one failure does not open it
    }


def test_it_is_ok_when_every_endpoint_works(client):
    health.record_success("live")
    health.record_failure("featured", UpstreamError(Kind.TIMEOUT, "slow"))
    health.record_success("featured")  # recovered since
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_failing_endpoint_makes_it_degraded_yet_still_200(client):
    """200 all the same: a load balancer must not pull every instance when parti is down."""
    health.record_success("live")
    health.record_failure("featured", UpstreamError(Kind.TIMEOUT, "slow"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


def test_an_open_circuit_makes_it_degraded(client, settings):
    settings.PARTI_CIRCUIT_FAILURES = 1
    health.record_success("live")
    breakers.failure("live", UpstreamError(Kind.UNREACHABLE, "down"))
    body = client.get("/healthz").json()
    assert body["upstream"]["live"]["circuit"] == "open"
    assert body["status"] == "degraded"


def test_a_404_from_parti_is_an_answer_not_a_failure(client, settings, monkeypatch):
    def not_found(url, params, deadline):
        raise UpstreamError(Kind.HTTP_STATUS, "HTTP 404", status=404)

    monkeypatch.setattr(upstream_client, "_fetch", not_found)
    with pytest.raises(UpstreamError):
        upstream_client.channel_info(999999999)
    body = client.get("/healthz").json()
    entry = next(iter(body["upstream"].values()))
    assert entry["calls"] == 1 and entry["failures"] == 0 and entry["failing"] is False
    assert body["status"] == "ok"


def test_it_is_never_cached(client):
    response = client.get("/healthz")
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def redis_cache(settings, url):
    """The cache on Redis at `url`, as with REDIS_URL (no outage remembered from before)."""
    from parti_site import cache_backend

    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "parti_site.cache_backend.TolerantRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    cache_backend._outage.down_until.pop(url, None)


def test_an_unreachable_redis_makes_it_degraded_yet_still_200(client, settings):
    from tests.live_site import free_port_block

    redis_cache(settings, f"redis://127.0.0.1:{free_port_block(1)}/0")  # nothing there
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["redis"] == {"reachable": False}
    assert body["status"] == "degraded"


def test_a_reachable_redis_is_reported_and_ok(client, settings):
    from tests.services import redis_url

    redis_cache(settings, redis_url(db=7))
    body = client.get("/healthz").json()
    assert body["redis"] == {"reachable": True}
    assert body["status"] == "ok"


def test_without_redis_there_is_no_redis_entry(client):
    assert "redis" not in client.get("/healthz").json()
