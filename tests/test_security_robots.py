"""robots.txt keeps crawlers off the proxies, sockets, feeds, search and admin."""


def test_robots_txt(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "max-age=86400" in response["Cache-Control"]
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.split(": ", 1)[1] for line in lines if line.startswith("Disallow: ")}
    assert {"/hls/", "/img/", "/ws/", "/feeds/", "/calendar", "/admin/", "/search"} <= disallowed
    assert "/" not in disallowed  # the pages themselves may be indexed
    assert "Allow" not in response.content.decode().replace("Disallow", "")


def test_it_refuses_to_be_posted_to(client):
    assert client.post("/robots.txt").status_code == 405
