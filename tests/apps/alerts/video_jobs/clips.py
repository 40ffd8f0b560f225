"""Copies of the shared clip for the video-job tests, made with PyAV's bundled encoders (no
ffmpeg binary here): VP9 in Matroska and MJPEG in AVI, and copies cut in the middle of a frame."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from harness.camera_clip import CLIP


def reencode(target: Path, container: str, codec: str, pix_fmt: str, **options: str) -> Path:
    """The whole clip, every frame, at its own 10 fps, in another container and codec."""
    with av.open(str(CLIP)) as source, av.open(str(target), "w", format=container) as out:
        video = source.streams.video[0]
        stream = out.add_stream(codec, rate=10, options=options)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, pix_fmt
        for index, frame in enumerate(source.decode(video)):
            picture = frame.reformat(format=pix_fmt)
            picture.pts, picture.time_base = index, Fraction(1, 10)
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return target


def vp9_matroska(folder: Path) -> Path:
    return reencode(
        folder / "clip-vp9.mkv", "matroska", "libvpx-vp9", "yuv420p",
        deadline="realtime", **{"cpu-used": "8"},
    )  # fmt: skip


def mjpeg_avi(folder: Path) -> Path:
    return reencode(folder / "clip-mjpeg.avi", "avi", "mjpeg", "yuvj420p", **{"q:v": "5"})


def cut(source: Path, target: Path, fraction: float) -> Path:
    """The first `fraction` of the file's bytes, one byte more than a round number so the cut
    falls inside a frame's data."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction) + 1])
    return target


def excerpt(target: Path, seconds: float = 20.0, fps: int = 2) -> Path:
    """The clip's first `seconds` (its first visit) as MJPEG in AVI at `fps`: a small clip for
    pages and the command line, encoded in a moment."""
    step = round(10 / fps)
    with av.open(str(CLIP)) as source, av.open(str(target), "w", format="avi") as out:
        video = source.streams.video[0]
        stream = out.add_stream("mjpeg", rate=fps, options={"q:v": "5"})
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, "yuvj420p"
        for index, frame in enumerate(source.decode(video)):
            if index >= seconds * 10:
                break
            if index % step:
                continue
            picture = frame.reformat(format="yuvj420p")
            picture.pts, picture.time_base = index // step, Fraction(1, fps)
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return target


def no_frames(target: Path) -> Path:
    """A Matroska file with a video stream and not one frame in it."""
    with av.open(str(target), "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        out.start_encoding()  # the header, with the stream, and then no packet
    return target
