"""HLS playlist rewriting, variant parsing and filtering on real-shaped playlists (facts.md §4)."""

import pytest

from parti_site.media.playlists import (
    MAX_PLAYLIST_BYTES,
    MAX_PLAYLIST_LINES,
    PlaylistError,
    Variant,
    check_playlist,
    filter_variants,
    is_playlist,
    parse_attributes,
    parse_variants,
    rewrite_playlist,
)

WEAVER = "https://video-weaver.ams03.hls.live-video.net/v1/playlist"
SEGMENTS = "https://fa723fc1b171.j.cloudfront.hls.live-video.net/v1/segment"

# facts.md §4.1
LIVE_MULTIVARIANT = f"""#EXTM3U
#EXT-X-SESSION-DATA:DATA-ID="NODE",VALUE="video-edge-c9010c.ams03"
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="1080p60",NAME="1080p60",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=8534030,RESOLUTION=1920x1080,CODECS="avc1.64002A,mp4a.40.2",VIDEO="1080p60",FRAME-RATE=60.000
{WEAVER}/Cs1080AbC.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="720p60",NAME="720p60",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=3422999,RESOLUTION=1280x720,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="720p60",FRAME-RATE=60.000
{WEAVER}/Cs720AbC.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="480p30",NAME="480p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=1427999,RESOLUTION=852x480,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="480p30",FRAME-RATE=30.000
{WEAVER}/Cs480AbC.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="360p30",NAME="360p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=630000,RESOLUTION=640x360,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="360p30",FRAME-RATE=30.000
{WEAVER}/Cs360AbC.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="160p30",NAME="160p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=230000,RESOLUTION=284x160,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="160p30",FRAME-RATE=30.000
{WEAVER}/Cs160AbC.m3u8
"""
LIVE_MULTIVARIANT_URL = (
    "https://f89c1a12071a.eu-west-1.playback.live-video.net/api/video/v1/"
    "eu-west-1.455030909228.channel.he8vhFE098Ge.m3u8?token=eyJhbGciOi.x.y&player_version=1.17.0"
)

# facts.md §4.2, newer dialect
LIVE_MEDIA_NEW = f"""#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:1628
#EXT-X-NET-LIVE-VIDEO-LIVE-SEQUENCE:1628
#EXT-X-NET-LIVE-VIDEO-ELAPSED-SECS:3255.383
#EXT-X-DATERANGE:ID="playlist-creation-1",CLASS="timestamp",START-DATE="2025-06-01T12:27:00.621Z",END-ON-NEXT=YES
#EXT-X-DATERANGE:ID="source-1",CLASS="live-video-net-stream-source",START-DATE="2025-06-01T12:26:32.089Z",END-ON-NEXT=YES,X-NET-LIVE-VIDEO-STREAM-SOURCE="live"
#EXT-X-PROGRAM-DATE-TIME:2025-06-01T12:26:32.089Z
#EXTINF:2.000,live
{SEGMENTS}/CsAAA.ts?dna=Ab%2Fc+d==&x=1
#EXT-X-PROGRAM-DATE-TIME:2025-06-01T12:26:34.089Z
#EXTINF:2.000,live
{SEGMENTS}/CsBBB.ts?dna=EfGh
#EXT-X-PREFETCH:{SEGMENTS}/CsCCC.ts?dna=IjKl
"""

# facts.md §4.2, older (Twitch-heritage) dialect
LIVE_MEDIA_OLD = f"""#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-TWITCH-LIVE-SEQUENCE:100
#EXT-X-TWITCH-ELAPSED-SECS:200.000
#EXT-X-TWITCH-TOTAL-SECS:202.000
#EXT-X-DATERANGE:ID="source-1",CLASS="twitch-stream-source",START-DATE="2023-02-09T22:55:41.550Z",END-ON-NEXT=YES,X-TV-TWITCH-STREAM-SOURCE="live"
#EXT-X-PROGRAM-DATE-TIME:2023-02-09T22:55:41.550Z
#EXTINF:2.000,live
{SEGMENTS}/Old1.ts?dna=one
#EXT-X-TWITCH-PREFETCH:{SEGMENTS}/Old2.ts?dna=two
#EXT-X-TWITCH-PREFETCH:{SEGMENTS}/Old3.ts?dna=three
"""

VOD_BASE = "https://watch.parti.com/ivs/v1/455030909228/he8vhFE098Ge/2025/5/17/7/19/9saEZCu7T6dG/media/hls/"
# facts.md §4.3, relative URIs and no trailing newline
VOD_MASTER = """#EXTM3U
#EXT-X-SESSION-DATA:DATA-ID="net.live-video.content.id",VALUE="he8vhFE098Ge"
#EXT-X-SESSION-DATA:DATA-ID="net.live-video.customer.id",VALUE="455030909228"
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="720p30",NAME="720p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=2440200,CODECS="avc1.4D401F,mp4a.40.2",RESOLUTION=1280x720,VIDEO="720p30"
720p30/playlist.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="480p30",NAME="480p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=1495199,CODECS="avc1.4D401F,mp4a.40.2",RESOLUTION=852x480,VIDEO="480p30"
480p30/playlist.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="360p30",NAME="360p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=630000,CODECS="avc1.4D401F,mp4a.40.2",RESOLUTION=640x360,VIDEO="360p30"
360p30/playlist.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="160p30",NAME="160p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=230000,CODECS="avc1.4D401F,mp4a.40.2",RESOLUTION=284x160,VIDEO="160p30"
160p30/playlist.m3u8"""

# facts.md §4.4
VOD_RENDITION = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:12
#ID3-EQUIV-TDTG:2023-02-09T22:58:35
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TWITCH-ELAPSED-SECS:0.000
#EXT-X-TWITCH-TOTAL-SECS:171.546
#EXT-X-PROGRAM-DATE-TIME:2023-02-09T22:55:41.550Z
#EXTINF:10.267,
0.ts
#EXT-X-PROGRAM-DATE-TIME:2023-02-09T22:55:51.817Z
#EXTINF:10.000,
1.ts
#EXT-X-PROGRAM-DATE-TIME:2023-02-09T22:58:30.117Z
#EXTINF:2.979,
16.ts
#EXT-X-ENDLIST
"""

BYTE_RANGE_VARIANT = """#EXTM3U
#EXT-X-VERSION:4
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:1.000,
#EXT-X-BYTERANGE:188000@0
0.ts
#EXTINF:1.000,
#EXT-X-BYTERANGE:190632@188000
0.ts
#EXT-X-ENDLIST
"""

FMP4 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXTINF:4.000,
seg-1.m4s
#EXTINF:4.000,
seg-2.m4s
#EXT-X-ENDLIST
"""

AUDIO_GROUPS = """#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio/en/index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Director, guests",URI="/abs/audio/dir.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",URI="subs/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080,CODECS="avc1.640028,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"
video/1080/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"
video/360/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200000,RESOLUTION=1920x1080,URI="video/1080/iframes.m3u8"
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=50000,RESOLUTION=640x360,URI="video/360/iframes.m3u8"
"""

LL_HLS = """#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24.0
#EXT-X-PART-INF:PART-TARGET=0.33334
#EXT-X-MEDIA-SEQUENCE:266
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.00008,
fileSequence266.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart267.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="filePart267.1.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart267.2.mp4"
#EXT-X-RENDITION-REPORT:URI="../1M/waitForMSN.php",LAST-MSN=273,LAST-PART=2
#EXT-X-RENDITION-REPORT:URI="../4M/waitForMSN.php",LAST-MSN=273,LAST-PART=1
"""
LL_HLS_URL = "https://ll.live-video.net/2M/waitForMSN.php?_HLS_msn=267"

ENCRYPTED = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:10
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.live-video.net/key?id=1,2",IV=0x00000000000000000000000000000001
#EXTINF:10.0,
a.ts
#EXT-X-KEY:METHOD=NONE
#EXTINF:10.0,
b.ts
#EXT-X-ENDLIST
"""


def tag_rewriter(calls=None):
    """A rewrite_uri that records its calls and returns a visibly rewritten URI."""

    def rewrite(uri, kind):
        if calls is not None:
            calls.append((uri, kind))
        return f"/proxy/{kind}?u={uri}"

    return rewrite


def uri_lines(text):
    return [line for line in text.splitlines() if line and not line.startswith("#")]


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["#EXTM3U\n", "\ufeff#EXTM3U\r\n#EXT-X-VERSION:3", "  \n\n#EXTM3U", "\ufeff\r\n#EXTM3U"],
)
def test_it_recognises_playlists(text):
    assert is_playlist(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "<!DOCTYPE html><html><body>403 Forbidden</body></html>",
        '{"error": "Forbidden", "message": "token expired"}',
        "[]",
        "EXTM3U\n",
        "#EXT-X-VERSION:3\n#EXTM3U\n",
        "#extm3u\n",
        None,
        b"#EXTM3U\n",
    ],
)
def test_it_refuses_non_playlists(text):
    assert not is_playlist(text)
    with pytest.raises(PlaylistError):
        rewrite_playlist(text, VOD_BASE, tag_rewriter())


def test_it_refuses_an_oversized_playlist():
    text = "#EXTM3U\n#" + "x" * MAX_PLAYLIST_BYTES
    with pytest.raises(PlaylistError, match="larger"):
        check_playlist(text)


def test_it_refuses_too_many_lines():
    text = "#EXTM3U\n" + "\n" * MAX_PLAYLIST_LINES
    with pytest.raises(PlaylistError, match="lines"):
        check_playlist(text)


def test_it_handles_a_huge_but_legal_playlist():
    # A 48-hour recording with 10 s segments.
    count = 48 * 360
    body = "".join(f"#EXTINF:10.000,\n{n}.ts\n" for n in range(count))
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n" + body + "#EXT-X-ENDLIST\n"
    out = rewrite_playlist(text, VOD_BASE + "720p30/playlist.m3u8", lambda u, k: u)
    lines = uri_lines(out)
    assert len(lines) == count
    assert lines[-1] == f"{VOD_BASE}720p30/{count - 1}.ts"


# --- rewriting -----------------------------------------------------------------------------


def test_it_rewrites_live_multivariant_variants_as_playlists():
    calls = []
    out = rewrite_playlist(LIVE_MULTIVARIANT, LIVE_MULTIVARIANT_URL, tag_rewriter(calls))
    assert [kind for _, kind in calls] == ["playlist"] * 5
    assert calls[0][0] == f"{WEAVER}/Cs1080AbC.m3u8"
    assert uri_lines(out)[0] == f"/proxy/playlist?u={WEAVER}/Cs1080AbC.m3u8"
    # Tags are untouched, including quoted commas in CODECS and SESSION-DATA VALUE=.
    assert '#EXT-X-SESSION-DATA:DATA-ID="NODE",VALUE="video-edge-c9010c.ams03"' in out
    assert 'CODECS="avc1.64002A,mp4a.40.2",VIDEO="1080p60",FRAME-RATE=60.000' in out
    assert all(line.startswith("/proxy/playlist?u=") for line in uri_lines(out))


def test_identity_rewrite_keeps_an_absolute_playlist_byte_for_byte():
    out = rewrite_playlist(LIVE_MULTIVARIANT, LIVE_MULTIVARIANT_URL, lambda u, k: u)
    assert out == LIVE_MULTIVARIANT


@pytest.mark.parametrize("text", [LIVE_MEDIA_NEW, LIVE_MEDIA_OLD])
def test_it_rewrites_live_media_segments_and_prefetch_hints(text):
    calls = []
    out = rewrite_playlist(text, f"{WEAVER}/Cs720AbC.m3u8", tag_rewriter(calls))
    assert calls and all(kind == "segment" for _, kind in calls)
    assert all(uri.startswith(SEGMENTS) for uri, _ in calls)
    prefetch = [line for line in out.splitlines() if "PREFETCH:" in line]
    assert prefetch and all(
        line.split(":", 1)[1].startswith("/proxy/segment?u=") for line in prefetch
    )
    # Unknown IVS/Twitch tags pass through.
    for line in text.splitlines():
        if "SEQUENCE" in line or "ELAPSED" in line or "DATERANGE" in line:
            assert line in out


def test_it_keeps_segment_query_tokens_verbatim():
    calls = []
    rewrite_playlist(LIVE_MEDIA_NEW, f"{WEAVER}/Cs720AbC.m3u8", tag_rewriter(calls))
    assert calls[0][0] == f"{SEGMENTS}/CsAAA.ts?dna=Ab%2Fc+d==&x=1"


def test_it_resolves_relative_variants_of_a_vod_master_without_trailing_newline():
    calls = []
    out = rewrite_playlist(VOD_MASTER, VOD_BASE + "master.m3u8", tag_rewriter(calls))
    assert calls == [
        (VOD_BASE + f"{name}/playlist.m3u8", "playlist")
        for name in ("720p30", "480p30", "360p30", "160p30")
    ]
    assert out.endswith(f"/proxy/playlist?u={VOD_BASE}160p30/playlist.m3u8\n")


def test_it_resolves_relative_segments_of_a_rendition_playlist():
    calls = []
    out = rewrite_playlist(VOD_RENDITION, VOD_BASE + "720p30/playlist.m3u8", tag_rewriter(calls))
    assert [uri for uri, _ in calls] == [VOD_BASE + f"720p30/{n}.ts" for n in (0, 1, 16)]
    assert "#EXTINF:10.267,\n/proxy/segment?u=" in out
    assert out.rstrip().endswith("#EXT-X-ENDLIST")
    assert "#ID3-EQUIV-TDTG:2023-02-09T22:58:35" in out


def test_it_keeps_byte_ranges_with_their_segments():
    out = rewrite_playlist(
        BYTE_RANGE_VARIANT, VOD_BASE + "720p30/byte-range-variant.m3u8", str.__add__
    )
    assert "#EXT-X-BYTERANGE:188000@0\n" + VOD_BASE + "720p30/0.tssegment\n" in out
    assert "#EXT-X-BYTERANGE:190632@188000\n" in out


def test_it_rewrites_the_fmp4_init_section_and_keeps_its_other_attributes():
    calls = []
    out = rewrite_playlist(FMP4, "https://vod.live-video.net/v/index.m3u8", tag_rewriter(calls))
    assert calls[0] == ("https://vod.live-video.net/v/init.mp4", "segment")
    assert (
        '#EXT-X-MAP:URI="/proxy/segment?u=https://vod.live-video.net/v/init.mp4",BYTERANGE="720@0"'
        in out
    )


def test_it_rewrites_audio_subtitle_and_iframe_renditions():
    calls = []
    out = rewrite_playlist(
        AUDIO_GROUPS, "https://vod.live-video.net/a/master.m3u8", tag_rewriter(calls)
    )
    assert ("https://vod.live-video.net/a/audio/en/index.m3u8", "playlist") in calls
    assert ("https://vod.live-video.net/abs/audio/dir.m3u8", "playlist") in calls
    assert ("https://vod.live-video.net/a/subs/en.m3u8", "playlist") in calls
    assert ("https://vod.live-video.net/a/video/1080/iframes.m3u8", "playlist") in calls
    assert len(calls) == 7
    # A quoted NAME containing a comma survives and is not mistaken for an attribute.
    assert 'NAME="Director, guests",URI="/proxy/playlist?u=' in out
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in out


def test_it_rewrites_low_latency_parts_hints_and_rendition_reports():
    calls = []
    out = rewrite_playlist(LL_HLS, LL_HLS_URL, tag_rewriter(calls))
    assert calls == [
        ("https://ll.live-video.net/2M/init.mp4", "segment"),
        ("https://ll.live-video.net/2M/fileSequence266.mp4", "segment"),
        ("https://ll.live-video.net/2M/filePart267.0.mp4", "segment"),
        ("https://ll.live-video.net/2M/filePart267.1.mp4", "segment"),
        ("https://ll.live-video.net/2M/filePart267.2.mp4", "segment"),
        ("https://ll.live-video.net/1M/waitForMSN.php", "playlist"),
        ("https://ll.live-video.net/4M/waitForMSN.php", "playlist"),
    ]
    assert "#EXT-X-PART:DURATION=0.33334,URI=" in out and ",INDEPENDENT=YES" in out
    assert "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=" in out
    assert ",LAST-MSN=273,LAST-PART=2" in out
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES" in out


def test_it_rewrites_key_uris_and_tolerates_method_none():
    calls = []
    out = rewrite_playlist(
        ENCRYPTED, "https://vod.live-video.net/e/index.m3u8", tag_rewriter(calls)
    )
    assert calls[0] == ("https://keys.live-video.net/key?id=1,2", "key")
    assert (
        '#EXT-X-KEY:METHOD=AES-128,URI="/proxy/key?u=https://keys.live-video.net/key?id=1,2",'
        "IV=0x00000000000000000000000000000001" in out
    )
    assert "#EXT-X-KEY:METHOD=NONE\n" in out
    assert [kind for _, kind in calls] == ["key", "segment", "segment"]


def test_it_rewrites_session_keys():
    text = '#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://k1",KEYFORMAT="com.apple"\n'
    calls = []
    rewrite_playlist(text, "https://a.live-video.net/m.m3u8", tag_rewriter(calls))
    assert calls == [("skd://k1", "key")]


def test_it_tolerates_crlf_bom_and_blank_lines():
    text = "\ufeff#EXTM3U\r\n\r\n#EXTINF:2.0,\r\n  0.ts  \r\n\r\n#EXTINF:2.0,\r\n1.ts"
    out = rewrite_playlist(text, VOD_BASE + "x/playlist.m3u8", lambda u, k: u)
    assert "\r" not in out and "\ufeff" not in out
    assert out.startswith("#EXTM3U\n")
    assert uri_lines(out) == [VOD_BASE + "x/0.ts", VOD_BASE + "x/1.ts"]
    assert out.endswith("\n")


def test_it_passes_comments_and_unknown_tags_through():
    text = '#EXTM3U\n# a comment with https://evil.example/x.ts\n#EXT-X-FUTURE-TAG:URI="x"\n'
    out = rewrite_playlist(text, VOD_BASE, tag_rewriter())
    assert out == text


def test_it_drops_tags_that_would_fetch_unroutable_upstream_resources():
    text = (
        "#EXTM3U\n"
        '#EXT-X-CONTENT-STEERING:SERVER-URI="https://steer.example/s.json",PATHWAY-ID="A"\n'
        '#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="lyrics.json"\n'
        '#EXT-X-SESSION-DATA:DATA-ID="NODE",VALUE="x"\n'
        '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2025-01-01T00:00:00Z",'
        'X-ASSET-LIST="https://ads.example/list.json"\n'
        '#EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2025-01-01T00:00:00Z",'
        'X-ASSET-URI="ad/ad.m3u8"\n'
    )
    calls = []
    out = rewrite_playlist(text, "https://a.live-video.net/m/master.m3u8", tag_rewriter(calls))
    assert "steer.example" not in out and "lyrics.json" not in out and "ads.example" not in out
    assert '#EXT-X-SESSION-DATA:DATA-ID="NODE",VALUE="x"' in out
    assert calls == [("https://a.live-video.net/m/ad/ad.m3u8", "playlist")]
    assert 'X-ASSET-URI="/proxy/playlist?u=https://a.live-video.net/m/ad/ad.m3u8"' in out


def test_a_uri_line_after_a_variant_does_not_make_later_lines_variants():
    text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\nstray.ts\n"
    calls = []
    rewrite_playlist(text, "https://a.live-video.net/", tag_rewriter(calls))
    assert [kind for _, kind in calls] == ["playlist", "segment"]


def test_attribute_parsing_handles_quoted_commas_and_junk():
    attrs = parse_attributes('A=1,B="x,y=z",C=0x1F, D = "q" ,bad,E=')
    assert attrs["A"] == "1" and attrs["B"] == "x,y=z" and attrs["C"] == "0x1F"
    assert attrs["D"] == "q"


# --- variants ------------------------------------------------------------------------------


def test_it_parses_the_live_ladder():
    variants = parse_variants(LIVE_MULTIVARIANT)
    assert [v.name for v in variants] == ["1080p60", "720p60", "480p", "360p", "160p"]
    assert variants[0] == Variant(
        uri=f"{WEAVER}/Cs1080AbC.m3u8",
        bandwidth=8534030,
        width=1920,
        height=1080,
        name="1080p60",
        codecs="avc1.64002A,mp4a.40.2",
        frame_rate=60.0,
    )
    assert variants[2].resolution == "852x480"


def test_it_parses_vod_variants_and_resolves_them_on_request():
    variants = parse_variants(VOD_MASTER, VOD_BASE + "master.m3u8")
    assert variants[0].uri == VOD_BASE + "720p30/playlist.m3u8"
    assert variants[0].frame_rate is None
    assert parse_variants(VOD_MASTER)[0].uri == "720p30/playlist.m3u8"


def test_variant_names_fall_back_to_group_height_and_bandwidth():
    text = (
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=100,VIDEO="chunked"\na.m3u8\n'
        "#EXT-X-STREAM-INF:BANDWIDTH=200,RESOLUTION=1280x720\nb.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=64000\nc.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=oops,RESOLUTION=bad\nd.m3u8\n"
    )
    variants = parse_variants(text)
    assert [v.name for v in variants] == ["chunked", "720p", "64 kbps", "default"]
    assert variants[3].bandwidth is None and variants[3].height is None


def test_a_media_playlist_has_no_variants():
    assert parse_variants(VOD_RENDITION) == []


def test_filtering_removes_taller_variants_and_their_media_lines():
    out = filter_variants(LIVE_MULTIVARIANT, 480)
    assert [v.name for v in parse_variants(out)] == ["480p", "360p", "160p"]
    assert "1080p60" not in out and "720p60" not in out
    assert '#EXT-X-SESSION-DATA:DATA-ID="NODE"' in out
    # Every EXT-X-MEDIA left is still paired with its STREAM-INF.
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-MEDIA:"):
            assert lines[index + 1].startswith("#EXT-X-STREAM-INF:")


def test_filtering_keeps_the_lowest_variant_when_all_are_too_tall():
    out = filter_variants(VOD_MASTER, 100)
    variants = parse_variants(out)
    assert [v.name for v in variants] == ["160p"]
    assert '#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="160p30"' in out


def test_filtering_keeps_shared_audio_groups_and_drops_tall_iframes():
    out = filter_variants(AUDIO_GROUPS, 720)
    assert "video/1080" not in out
    assert "video/360/index.m3u8" in out and "video/360/iframes.m3u8" in out
    assert out.count("TYPE=AUDIO") == 2 and "TYPE=SUBTITLES" in out


def test_filtering_keeps_audio_only_variants():
    text = (
        "#EXTM3U\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080\nhi.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\naudio.m3u8\n'
    )
    out = filter_variants(text, 480)
    assert [v.uri for v in parse_variants(out)] == ["hi.m3u8", "audio.m3u8"]
    assert [v.uri for v in parse_variants(filter_variants(text, 1080))] == ["hi.m3u8", "audio.m3u8"]


def test_filtering_a_single_variant_playlist_changes_nothing():
    text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1920x1080\nonly.m3u8\n"
    assert filter_variants(text, 360) == text


def test_filtering_refuses_non_playlists():
    with pytest.raises(PlaylistError):
        filter_variants("<html>", 480)
