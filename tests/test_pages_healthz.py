from parti_site.upstream.errors import Kind, UpstreamError
from parti_site.upstream.health import health


def test_it_reports_upstream_health(client):
    health.record_success("live")
    health.record_failure("featured", UpstreamError(Kind.TIMEOUT, "slow"))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
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


def test_it_is_never_cached(client):
    response = client.get("/healthz")
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
