"""The test video (made once by scripts/make_test_video.sh) and how it is looped.

Each rendition is 4 MPEG-TS segments of 2 s (8 s in all). Segment number `n` of an endless
stream is source segment `n % 4` with every timestamp (PES PTS/DTS and PCR) moved forward by
`n // 4` loops of 8 s, so players see one continuous timeline and no discontinuity. 8 s of
48 kHz AAC is a whole number of audio frames, so the loop point has no audio gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

VIDEO_DIR = Path(__file__).with_name("video")
SEGMENT_SECONDS = 2
TS_CLOCK = 90_000  # MPEG-TS timestamps count 90 kHz ticks
WRAP = 1 << 33  # ... in 33 bits
PACKET = 188


@dataclass(frozen=True)
class Rendition:
    name: str  # IVS folder / group name
    width: int
    height: int
    codecs: str
    segments: tuple[bytes, ...]

    @property
    def bandwidth(self) -> int:
        """Peak bits per second over the segments, as HLS BANDWIDTH wants."""
        return max(len(s) for s in self.segments) * 8 // SEGMENT_SECONDS

    @property
    def loop_seconds(self) -> int:
        return len(self.segments) * SEGMENT_SECONDS


# What scripts/make_test_video.sh produces (H.264 Main 3.1 = avc1.4D401F, AAC-LC).
_LADDER = (("360p30", 640, 360), ("160p30", 284, 160))


@cache
def renditions() -> dict[str, Rendition]:
    result = {}
    for name, width, height in _LADDER:
        files = sorted((VIDEO_DIR / name).glob("*.ts"), key=lambda p: int(p.stem))
        segments = tuple(p.read_bytes() for p in files)
        result[name] = Rendition(name, width, height, "avc1.4D401F,mp4a.40.2", segments)
    return result


@lru_cache(maxsize=256)
def segment(rendition: str, number: int) -> bytes:
    """Bytes of segment `number` (0, 1, 2, ...) of the endless looped stream."""
    source = renditions()[rendition]
    loop, index = divmod(number, len(source.segments))
    return shift_timestamps(source.segments[index], loop * source.loop_seconds * TS_CLOCK)


def shift_timestamps(data: bytes, ticks: int) -> bytes:
    """Add `ticks` to every PCR, PTS and DTS of an MPEG-TS byte string."""
    if ticks % WRAP == 0:
        return data
    buf = bytearray(data)
    for pos in range(0, len(buf) - PACKET + 1, PACKET):
        if buf[pos] != 0x47:
            raise ValueError(f"lost MPEG-TS sync at byte {pos}")
        payload_start = buf[pos + 1] & 0x40
        adaptation = (buf[pos + 3] >> 4) & 0b11
        i = pos + 4
        if adaptation & 0b10:
            length = buf[i]
            if length and buf[i + 1] & 0x10:  # PCR flag
                _shift_pcr(buf, i + 2, ticks)
            i += 1 + length
        if adaptation & 0b01 and payload_start and buf[i : i + 3] == b"\x00\x00\x01":
            flags = buf[i + 7] >> 6  # PTS_DTS_flags
            if flags & 0b10:
                _shift_pts(buf, i + 9, ticks)
            if flags == 0b11:
                _shift_pts(buf, i + 14, ticks)
    return bytes(buf)


def _shift_pts(buf: bytearray, at: int, ticks: int) -> None:
    b = buf[at : at + 5]
    value = ((b[0] >> 1) & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
    value = (value + ticks) % WRAP
    buf[at] = (b[0] & 0xF0) | ((value >> 29) & 0x0E) | 1
    buf[at + 1] = (value >> 22) & 0xFF
    buf[at + 2] = ((value >> 14) & 0xFE) | 1
    buf[at + 3] = (value >> 7) & 0xFF
    buf[at + 4] = ((value << 1) & 0xFE) | 1


def _shift_pcr(buf: bytearray, at: int, ticks: int) -> None:
    b = buf[at : at + 6]
    base = b[0] << 25 | b[1] << 17 | b[2] << 9 | b[3] << 1 | b[4] >> 7
    base = (base + ticks) % WRAP
    buf[at] = (base >> 25) & 0xFF
    buf[at + 1] = (base >> 17) & 0xFF
    buf[at + 2] = (base >> 9) & 0xFF
    buf[at + 3] = (base >> 1) & 0xFF
    buf[at + 4] = ((base & 1) << 7) | (b[4] & 0x7F)  # keep reserved bits and extension
