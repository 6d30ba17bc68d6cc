# ruff: noqa: F811 - pytest fixtures imported from tests.live_fakes
"""The instance switches in /admin/, saved through the real form: each changes what the next
page, playlist, image or socket gets, with no restart."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from parti_site.instance.models import Switches
from parti_site.live import wire
from parti_site.media import fetch
from parti_site.media.urls_for import live_playlist_path
from tests.admin_forms import CHAT_PATH, api_calls, committed_db, save_switches
from tests.live_fakes import live_settings, run, upstream  # noqa: F401 (fixtures)

LIVE_USER = 348242  # live in the simulated world, with 160p and 360p variants


def media(path: str):
    """GET a media view in a loop of its own, closing the loop's media session after."""

    async def get():
        try:
            return await AsyncClient().get(path)
        finally:
            await fetch.close()

    return asyncio.run(get())


def playlist(path: str) -> str:
    response = media(path)
    assert response.status_code == 200, response.content
    return response.content.decode()


def fetch_status(path: str) -> int:
    return media(path).status_code


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.django_db
def test_the_switches_are_one_row_with_its_form_at_the_list_url(admin_client):
    response = admin_client.get("/admin/instance/switches/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/instance/switches/1/change/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Proxied: all video goes through this server" in page
    assert "placeholders instead" in page
    assert admin_client.get("/admin/instance/switches/add/").status_code == 403


@committed_db
def test_the_segment_mode_switch_changes_the_playlist_the_player_gets(admin_client, parti):
    path = live_playlist_path(LIVE_USER)
    direct = uris(playlist(path))
    assert direct and all(uri.startswith(parti.urls.variant) for uri in direct)
    save_switches(admin_client, segment_mode="proxied")
    proxied = uris(playlist(path))
    assert len(proxied) == len(direct)
    assert all(uri.startswith("/hls/p/") for uri in proxied)
    save_switches(admin_client, segment_mode="direct")
    assert uris(playlist(path)) == direct


@committed_db
def test_the_segment_mode_left_at_its_default_follows_the_environment(
    admin_client, parti, settings
):
    settings.SEGMENT_MODE = "proxied"
    assert all(uri.startswith("/hls/p/") for uri in uris(playlist(live_playlist_path(LIVE_USER))))


@committed_db
def test_the_quality_cap_filters_the_proxied_playlist_only(admin_client, parti):
    path = live_playlist_path(LIVE_USER)
    save_switches(admin_client, segment_mode="proxied", max_height=160)
    text = playlist(path)
    assert len(uris(text)) == 1
    assert "RESOLUTION=284x160" in text and "x360" not in text
    save_switches(admin_client, segment_mode="direct")
    assert len(uris(playlist(path))) == 2  # direct: the CDN pays, every quality is offered


@committed_db
def test_with_the_image_proxy_off_pages_show_placeholders(admin_client, parti):
    profile = f"/profile/{LIVE_USER}"
    page = admin_client.get(profile).content.decode()
    image = page.split('src="/img/', 1)[1].split('"', 1)[0]
    assert fetch_status(f"/img/{image}") == 200
    save_switches(admin_client, image_proxy=False)
    page = admin_client.get(profile).content.decode()
    assert 'src="/img/' not in page
    assert "img/avatar.svg" in page
    assert parti.urls.assets not in page  # never parti's own image URLs instead
    # A page cached before the switch links images the proxy no longer serves.
    assert fetch_status(f"/img/{image}") == 404


@committed_db
def test_with_public_chat_off_the_watch_page_has_no_chat(admin_client, parti):
    assert "data-chat" in admin_client.get(f"/watch/{LIVE_USER}").content.decode()
    assert api_calls(parti, CHAT_PATH.format(user_id=LIVE_USER)) == 1
    save_switches(admin_client, public_chat=False)
    page = admin_client.get(f"/watch/{LIVE_USER}").content.decode()
    assert "data-chat" not in page
    assert "data-player" in page  # the rest of the page is unchanged
    assert api_calls(parti, CHAT_PATH.format(user_id=LIVE_USER)) == 1  # not even fetched


@committed_db
def test_with_public_chat_off_the_watch_socket_sends_no_chat(admin_client, live_settings, upstream):
    live_settings.LIVE_RELAY = False
    save_switches(admin_client, public_chat=False)

    async def body():
        from parti_site.asgi import application

        communicator = WebsocketCommunicator(
            application,
            "/ws/watch/353044",
            headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")],
        )
        connected, _ = await communicator.connect()
        assert connected
        layer = get_channel_layer()
        group = wire.watch_group(353044)
        await layer.group_send(group, wire.message({"kind": "chat", "user_id": 353044}))
        await layer.group_send(group, wire.message(wire.chat_history(353044, [])))
        await layer.group_send(group, wire.message(wire.viewers(353044, 7)))
        # No history first, no chat: the viewer count is the first thing it sends.
        assert (await communicator.receive_json_from())["kind"] == "viewers"
        assert await communicator.receive_nothing(0.2)
        await communicator.disconnect()

    run(body())


@committed_db
def test_the_banner_is_shown_on_every_page_as_plain_text(admin_client, parti):
    save_switches(admin_client, banner="Maintenance tonight <b>22:00</b> UTC")
    banner = "Maintenance tonight &lt;b&gt;22:00&lt;/b&gt; UTC"
    for path in ("/", "/live", "/about", "/watch/999999999", "/no-such-page"):
        assert banner in admin_client.get(path).content.decode(), path
    save_switches(admin_client, banner="")
    assert "data-announcement" not in admin_client.get("/live").content.decode()


@committed_db
def test_the_switches_row_always_has_pk_1():
    Switches(pk=7, banner="x").save()
    assert list(Switches.objects.values_list("pk", "banner")) == [(1, "x")]
