"""The simulated parti against facts.md and the recordings of home-routes.md, over real HTTP."""

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from websockets.sync.client import connect

from parti_site.simulator import recorded, video

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "/parti_v2/profile"
RECENT = PROFILE + "/get_livestream_channel_info/recent"
# shared/ lies beside the checkout (CI lays a copy there too).
HOME_ROUTES = next(
    (
        path
        for path in (
            ROOT.parent / "shared" / "parti-api" / "home-routes.md",
            Path("/work/shared/parti-api/home-routes.md"),
        )
        if path.exists()
    ),
    ROOT.parent / "shared" / "parti-api" / "home-routes.md",
)
JACK, JACK_CHANNEL = 348242, "mvTHShbrmxS2"  # live in the recordings
OFFLINE_USER = 463000  # featured, not live
RECORDING_PATH = re.compile(
    r"^ivs/v1/455030909228/[A-Za-z0-9]{12}/\d{4}/[1-9]\d?/[1-9]\d?/[1-9]?\d/[1-9]?\d/"
    r"[A-Za-z0-9]{12}/media/hls/master\.m3u8$"
)


@pytest.fixture
def sim(simulated_parti):
    simulated_parti.reset()
    return simulated_parti


@pytest.fixture
def http():
    with httpx.Client(timeout=5) as client:
        yield client


def api(sim, http, path):
    return http.get(sim.http(0) + PROFILE + path)


def advance_clock(sim, http, seconds):
    http.post(sim.control_url + "/_sim/clock", json={"advance": seconds}).raise_for_status()


def live_token(sim, http, user_id=JACK):
    channel = api(sim, http, f"/get_livestream_channel_info/{user_id}").json()
    channel = channel["channel_info"]["channel"]
    return channel["playback_url"], channel["playback_auth_token"]


def variant_uris(sim, http):
    url, token = live_token(sim, http)
    body = http.get(url, params={"token": token}).text
    return [line for line in body.splitlines() if line and not line.startswith("#")]


def first_pts(data: bytes) -> int:
    """PTS of the first PES packet of an MPEG-TS byte string."""
    for pos in range(0, len(data), 188):
        i = pos + 4
        if (data[pos + 3] >> 4) & 2:
            i += 1 + data[i]
        if data[pos + 1] & 0x40 and data[i : i + 3] == b"\x00\x00\x01":
            b = data[i + 9 : i + 14]
            return (b[0] >> 1 & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
    raise AssertionError("no PES packet")


# --- recorded routes ------------------------------------------------------------------------


@pytest.mark.parametrize("entry", recorded.entries(), ids=lambda e: e["path"])
def test_it_serves_each_recorded_route_as_recorded(sim, http, entry):
    response = http.get(sim.http(0) + entry["path"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.json() == entry["response"]
    # Same order, and the keys in recorded order too.
    assert json.dumps(response.json()) == json.dumps(entry["response"])


def test_it_keeps_one_avatar_link_of_the_slip_row():
    rows = recorded.entries()[5]["response"]
    assert rows[0]["avatar_link"] == "https://assets.parti.com/asset.png"
    assert "event_file" not in rows[0]


@pytest.mark.skipif(not HOME_ROUTES.exists(), reason="home-routes.md not available")
def test_the_committed_recordings_match_the_extraction(tmp_path):
    script = ROOT / "scripts" / "extract_recorded.py"
    code = (
        f"import runpy, sys; sys.argv = ['x', {str(HOME_ROUTES)!r}];"
        f"m = runpy.run_path({str(script)!r});"
        f"print(__import__('json').dumps(m['extract'](open({str(HOME_ROUTES)!r}).read())))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    assert json.loads(out.stdout) == recorded.entries()


def test_recorded_query_order_does_not_matter(sim, http):
    query = (
        "limit=15&offset=0&categories=10&sort_by_date_desc=true&from_ts=1627948800"
        "&to_ts=2229292800&followed_only=false&top_views_sort=false"
    )
    rows = api(sim, http, "/get_livestream_channel_info/recent?" + query).json()
    assert [r["event_id"] for r in rows] == [83870, 83873, 83926, 83802]


# --- generalised queries --------------------------------------------------------------------


def test_live_honours_limit_offset_and_category(sim, http):
    rows = api(sim, http, "/get_livestream_channel_info/live?limit=2&offset=1").json()
    assert [r["user_id"] for r in rows] == [465731, 351819]
    music = api(sim, http, "/get_livestream_channel_info/live?limit=12&offset=0&categories=10")
    assert [r["user_name"] for r in music.json()] == ["Oldies_Hits_Radio"]


def test_recent_treats_categories_as_a_set_and_ignores_nan(sim, http):
    rows = api(
        sim, http, "/get_livestream_channel_info/recent?categories=NaN&categories=7&categories=7"
    ).json()
    assert [r["event_id"] for r in rows] == [83934, 83949, 83900]
    both = api(sim, http, "/get_livestream_channel_info/recent?categories=7&categories=10&limit=50")
    assert {r["category_name"] for r in both.json()} == {"Gaming", "Music"}
    assert len(both.json()) == 7


def test_recent_pool_has_every_recorded_event_once_and_complete(sim, http):
    rows = api(sim, http, "/get_livestream_channel_info/recent?limit=100").json()
    ids = [r["event_id"] for r in rows]
    assert len(ids) == len(set(ids)) == 14
    assert all(len(r) == 17 for r in rows)  # trimmed NaN rows are completed here
    ends = [r["event_end_ts"] for r in rows]
    assert ends == sorted(ends, reverse=True)


def test_recent_sorts_by_views_filters_by_user_and_pages(sim, http):
    top = api(sim, http, "/get_livestream_channel_info/recent?top_views_sort=true&limit=2").json()
    assert [r["total_viewers"] for r in top] == [93260, 76262]
    mine = api(sim, http, f"/get_livestream_channel_info/recent?by_user_id={JACK}&limit=10")
    assert [r["event_id"] for r in mine.json()] == [73640, 63781]
    second = api(sim, http, "/get_livestream_channel_info/recent?offset=13&limit=15").json()
    assert len(second) == 1
    window = api(sim, http, "/get_livestream_channel_info/recent?from_ts=1748480000").json()
    assert all(r["event_start_ts"] >= 1748480000 for r in window) and window


def test_a_bad_number_is_a_400(sim, http):
    response = api(sim, http, "/get_livestream_channel_info/live?limit=abc")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"


# --- per-item endpoints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/user_profile/999",
        "/user_profile/abc",
        "/get_livestream_channel_info/999",
        "/get_livestream_channel_info/recent/999",
        "/user_profile_feed/999",
        "/get_user_by_social_media/parti/nobody",
        "/get_user_by_social_media/discord/photobyastral_13781",  # discriminator missing
        "/user_profile_chat/999/public",
        "/no_such_route",
    ],
)
def test_unknown_things_are_404_with_a_json_body(sim, http, path):
    response = api(sim, http, path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert isinstance(response.json(), dict)


def test_name_lookup_is_a_bare_number(sim, http):
    response = api(sim, http, "/get_user_by_social_media/twitter/dohertyjackk")
    assert response.text == str(JACK)
    discord = api(sim, http, "/get_user_by_social_media/discord/photobyastral_13781%230")
    assert discord.json() == 615965


def test_synthesized_profile_has_the_profile_keys(sim, http):
    profile = api(sim, http, f"/user_profile/{JACK}").json()
    assert list(profile)[:9] == [
        "user_id", "user_name", "user_avatar_id", "avatar_link", "channels_joined",
        "members", "description", "social_media", "social_username",
    ]  # fmt: skip
    assert profile["members"] == 34157  # from the featured row
    assert re.match(rf"^http://.+/{JACK}_[0-9a-f-]{{36}}\.png$", profile["avatar_link"])
    assert http.get(profile["avatar_link"]).headers["Content-Type"] == "image/png"
    oldies = api(sim, http, "/user_profile/593563").json()
    assert oldies["avatar_link"] is None  # null stays null


def test_channel_info_online(sim, http):
    info = api(sim, http, f"/get_livestream_channel_info/{JACK}").json()
    assert info["is_streaming_live_now"] is True
    channel, stream = info["channel_info"]["channel"], info["channel_info"]["stream"]
    assert channel["is_live"] is True and channel["current_event_id"] == 83848
    assert channel["playback_url"] == (
        f"{sim.http(2)}/api/video/v1/eu-west-1.455030909228.channel.{JACK_CHANNEL}.m3u8"
    )
    assert channel["stream_key"] == "" and channel["ingest_endpoint"] == ""
    assert stream["viewer_count"] == 12516 and stream["state"] == "LIVE"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", stream["start_time"])
    event_info = info["channel_info"]["livestream_event_info"]
    assert event_info["event_name"] == "I'm Live on Parti"
    assert http.get(event_info["livestream_preview_file"]).status_code == 200


def test_channel_info_offline(sim, http):
    info = api(sim, http, f"/get_livestream_channel_info/{OFFLINE_USER}").json()
    assert info["is_streaming_live_now"] is False
    assert set(info["channel_info"]) == {"channel", "visibility_type"}
    assert info["channel_info"]["channel"]["is_live"] is False
    assert api(sim, http, "/get_livestream_channel_info/123456").status_code == 200


def test_one_event_has_a_real_recording_path(sim, http):
    for row in api(sim, http, "/get_livestream_channel_info/recent?limit=100").json():
        event = api(sim, http, f"/get_livestream_channel_info/recent/{row['event_id']}").json()
        assert RECORDING_PATH.match(event["livestream_recording"]), event
        assert event["event_title"] == row["event_title"]
    event = api(sim, http, "/get_livestream_channel_info/recent/83870").json()
    assert event["event_file"] == "https://assets.parti.com/asset.png"  # as recorded


def test_feed_tolerates_an_empty_first_parameter(sim, http):
    feed = api(sim, http, f"/user_profile_feed/{JACK}?&limit=1").json()
    assert len(feed) == 1
    assert set(feed[0]) == {
        "feed_id", "user_id", "post_content", "event_id", "created_at", "livestream_recording",
    }  # fmt: skip


def test_public_chat_has_a_bot_line_and_a_json_line(sim, http):
    chat = api(sim, http, f"/user_profile_chat/{JACK}/public").json()
    assert any(line["user_name"] == "BabbleChat" for line in chat)
    assert any(line["post_content"].startswith("{") for line in chat)
    json.loads(next(line["post_content"] for line in chat if line["post_content"][0] == "{"))
    assert [line["created_at"] for line in chat] == sorted(
        (line["created_at"] for line in chat), reverse=True
    )


# --- live video ------------------------------------------------------------------------------


def test_multivariant_needs_a_valid_token(sim, http):
    url, token = live_token(sim, http)
    assert http.get(url).status_code == 403
    assert http.get(url, params={"token": token[:-2] + "xx"}).status_code == 403
    _, other = live_token(sim, http, 465731)  # another channel's token
    assert http.get(url, params={"token": other}).status_code == 403
    ok = http.get(url, params={"token": token, "player_version": "1.17.0"})
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://parti.com"
    assert ok.text.startswith("#EXTM3U\n")
    assert ok.text.count("#EXT-X-STREAM-INF:") == 2


def test_tokens_expire(sim, http):
    url, token = live_token(sim, http)
    advance_clock(sim, http, 301)
    assert http.get(url, params={"token": token}).status_code == 403


def test_token_lifetime_is_switchable(sim, http):
    http.post(sim.control_url + "/_sim/token-lifetime", json={"seconds": 5}).raise_for_status()
    url, token = live_token(sim, http)
    assert http.get(url, params={"token": token}).status_code == 200
    advance_clock(sim, http, 6)
    assert http.get(url, params={"token": token}).status_code == 403


def test_unknown_or_offline_channel_multivariant_is_404(sim, http):
    url, token = live_token(sim, http)
    unknown = url.replace(JACK_CHANNEL, "ZZZZZZZZZZZZ")
    assert http.get(unknown, params={"token": token}).status_code == 404
    offline = sim.world.channels[OFFLINE_USER].channel_id
    offline_url = url.replace(JACK_CHANNEL, offline)
    token = sim.world.make_token(offline)
    assert http.get(offline_url, params={"token": token}).status_code == 404


def test_media_playlist_slides_with_the_clock(sim, http):
    variant = variant_uris(sim, http)[0]
    assert variant.startswith(sim.http(3) + "/v1/playlist/")
    first = http.get(variant)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    sequence = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", first.text).group(1))
    assert first.text.count("#EXTINF:2.000,live") == 10
    assert first.text.count("#EXT-X-PROGRAM-DATE-TIME:") == 10
    assert "#EXT-X-ENDLIST" not in first.text
    assert first.text.splitlines()[-1].startswith("#EXT-X-PREFETCH:" + sim.http(4))
    advance_clock(sim, http, 10)
    later = http.get(variant).text
    assert f"#EXT-X-MEDIA-SEQUENCE:{sequence + 5}\n" in later


def test_segments_need_their_dna_and_support_ranges(sim, http):
    body = http.get(variant_uris(sim, http)[0]).text
    segment = [line for line in body.splitlines() if line.startswith(sim.http(4))][-1]
    assert "?dna=" in segment
    whole = http.get(segment)
    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "video/mp2t"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Access-Control-Allow-Origin"] == "*"
    assert int(whole.headers["Content-Length"]) == len(whole.content)
    assert whole.content[0] == 0x47
    part = http.get(segment, headers={"Range": "bytes=188-375"})
    assert part.status_code == 206
    assert part.content == whole.content[188:376]
    assert part.headers["Content-Range"] == f"bytes 188-375/{len(whole.content)}"
    assert http.get(segment.split("?")[0]).status_code == 403
    assert http.get(segment[:-1] + ("A" if segment[-1] != "A" else "B")).status_code == 403


def test_looped_segments_have_continuous_timestamps():
    step = video.SEGMENT_SECONDS * video.TS_CLOCK
    pts = [first_pts(video.segment("360p30", n)) for n in range(10)]
    assert [b - a for a, b in zip(pts, pts[1:], strict=False)] == [step] * 9


# --- recordings ------------------------------------------------------------------------------


def recording_url(sim, http, event_id=83870):
    event = api(sim, http, f"/get_livestream_channel_info/recent/{event_id}").json()
    return urljoin(sim.vod_url, event["livestream_recording"])


def test_vod_master_has_relative_uris(sim, http):
    master = http.get(recording_url(sim, http))
    assert master.status_code == 200
    assert master.headers["Access-Control-Allow-Origin"] == "*"
    assert not master.text.endswith("\n")
    uris = [line for line in master.text.splitlines() if not line.startswith("#")]
    assert uris == ["360p30/playlist.m3u8", "160p30/playlist.m3u8"]


def test_vod_rendition_and_segments(sim, http):
    url = urljoin(recording_url(sim, http), "360p30/playlist.m3u8")
    playlist = http.get(url).text
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist and "#EXT-X-ENDLIST" in playlist
    segments = [line for line in playlist.splitlines() if not line.startswith("#")]
    assert segments == ["0.ts", "1.ts", "2.ts"]
    data = http.get(urljoin(url, "1.ts"))
    assert data.status_code == 200 and data.content[0] == 0x47
    ranged = http.get(urljoin(url, "1.ts"), headers={"Range": "bytes=-188"})
    assert ranged.status_code == 206 and ranged.content == data.content[-188:]
    assert http.get(urljoin(url, "9.ts")).status_code == 403  # S3-like missing key


def test_vod_byte_range_variant_points_into_the_segments(sim, http):
    master = http.get(urljoin(recording_url(sim, http), "byte-range-multivariant.m3u8")).text
    assert "160p30/byte-range-variant.m3u8" in master
    url = urljoin(recording_url(sim, http), "160p30/byte-range-variant.m3u8")
    playlist = http.get(url).text
    length, offset = map(int, re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)", playlist)[1])
    whole = http.get(urljoin(url, "0.ts")).content
    part = http.get(urljoin(url, "0.ts"), headers={"Range": f"bytes={offset}-"}).content
    assert part[:length] == whole[offset : offset + length] and part[0] == 0x47


# --- assets, websocket, control --------------------------------------------------------------


def test_asset_host_serves_the_recorded_placeholders(sim, http):
    assert http.get(sim.http(6) + "/asset.jpeg").headers["Content-Type"] == "image/jpeg"
    assert http.get(sim.http(6) + "/asset.png").content.startswith(b"\x89PNG")
    assert http.get(sim.http(6) + "/1_nope.png").status_code == 403


def test_websocket_accepts_subscriptions_and_stays_silent(sim, http):
    with connect(sim.ws_url, origin="https://parti.com") as ws:
        ws.send(json.dumps({"subscribe_options": {"NewChannelLiveNotify": {}}}))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)
        assert len(sim.hub.subscribers("NewChannelLiveNotify")) == 1


def test_control_counts_api_requests(sim, http):
    http.post(sim.control_url + "/_sim/requests/reset")
    for _ in range(2):
        api(sim, http, "/featured_channels")
    api(sim, http, "/user_profile_feed/348242?&limit=5")
    counts = http.get(sim.control_url + "/_sim/requests").json()
    assert counts == {
        PROFILE + "/featured_channels": 2,
        PROFILE + "/user_profile_feed/348242?&limit=5": 1,
    }
    http.post(sim.control_url + "/_sim/requests/reset")
    assert http.get(sim.control_url + "/_sim/requests").json() == {}


def test_control_state_and_reset(sim, http):
    advance_clock(sim, http, 50)
    state = http.get(sim.control_url + "/_sim/state").json()
    assert state["clock_offset"] == 50
    assert {c["user_id"] for c in state["live_channels"]} == {348242, 465731, 351819, 593563}
    state = http.post(sim.control_url + "/_sim/reset").json()
    assert state["clock_offset"] == 0


@pytest.mark.parametrize("change", [-0.004, -0.000001, 0.000001, 0.003])
def test_a_price_push_says_the_direction_and_size_of_its_move(change):
    from decimal import Decimal

    from parti_site.simulator.ws import Hub

    hub = Hub(seed=1)
    hub.rng.uniform = lambda low, high: change
    before = {row["display_symbol"]: Decimal(row["price"]) for row in hub.move_prices()}
    for row in hub.move_prices():
        old, new = before[row["display_symbol"]], Decimal(row["price"])
        assert new != old
        assert (new > old) == (change > 0)  # a fall is never shown as a rise
        assert row["direction"] == ("up" if new > old else "down")
        assert row["price_diff"] == f"{abs(new - old) / old * 100:.2f}"


def test_a_go_live_for_a_named_creator_carries_that_creators_data(sim):
    frame = sim.hub.golive_frame({"user_id": 422974})
    assert frame["user_id"] == 422974
    assert frame["user_name"] == "JahBlessGames"


def test_the_demo_schedule_starts_now_and_keeps_the_recorded_gaps(simulated_parti):
    from parti_site.simulator.world import World

    urls, secret = simulated_parti.urls, b"k" * 32
    sim_world = World(urls, secret, schedule_from_now=True, started_at=2_000_000_000)
    recorded_events = World(urls, secret).calendar
    moved = sim_world.calendar
    assert min(e["event_start_ts"] for e in moved) == 2_000_000_000
    shift = moved[0]["event_start_ts"] - recorded_events[0]["event_start_ts"]
    for before, after in zip(recorded_events, moved, strict=True):
        assert after["event_start_ts"] - before["event_start_ts"] == shift
        assert after["event_end_ts"] - before["event_end_ts"] == shift
        assert {k: v for k, v in after.items() if not k.endswith("_ts")} == {
            k: v for k, v in before.items() if not k.endswith("_ts")
        }
    assert sum(e["event_start_ts"] > 2_000_000_000 for e in moved) == len(moved) - 1
    # The site's own query is a recorded one, answered from the recordings: moved too.
    asked = recorded.query_key(
        PROFILE + "/livestream_calendar/events", [("offset", "0"), ("limit", "100")]
    )
    assert sim_world.recorded[asked] == moved
