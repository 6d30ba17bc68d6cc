#!/bin/sh
# Generate, once, the test video the simulated parti serves (committed under
# parti_site/simulator/video/): 8 s of test pattern + tone as MPEG-TS segments of 2 s, in two
# IVS-named renditions. 8 s because 8 s of 48 kHz AAC is exactly 375 frames, so the simulator
# can loop the segments (shifting their timestamps by 8 s per loop) without an audio gap.
# Keyframe every 60 frames (2 s at 30 fps) so every segment starts with one.
set -eu
cd "$(dirname "$0")/../parti_site/simulator/video"

render() { # name size video_bitrate
    mkdir -p "$1"
    rm -f "$1"/*.ts
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "testsrc2=size=$2:rate=30" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" \
        -t 8 -map 0:v -map 1:a \
        -c:v libx264 -profile:v main -level:v 3.1 -pix_fmt yuv420p -preset veryfast \
        -b:v "$3" -maxrate "$3" -bufsize "$3" \
        -g 60 -keyint_min 60 -sc_threshold 0 -bf 0 \
        -c:a aac -b:a 48k -ac 1 \
        -f segment -segment_time 2 -segment_format mpegts -reset_timestamps 0 \
        "$1/%d.ts"
}

render 360p30 640x360 250k
render 160p30 284x160 80k

# One small JPEG for the asset host (PNGs are generated in Python at run time).
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=320x180" -frames:v 1 \
    -q:v 8 ../placeholder.jpeg

du -ch ./*/*.ts ../placeholder.jpeg | tail -1
