"""Helpers shared by the core tests: feeding a FrameParser in various ways."""

from __future__ import annotations

import pytest

from stomper import FrameError, FrameParser
from stomper.frame import Frame


def parse_all(data: bytes, version: str = "1.2", **limits: int) -> list[Frame]:
    """Every frame in `data` fed as one chunk; the stream must end cleanly."""
    parser = FrameParser(version, **limits)
    frames = parser.feed(data)
    parser.close()
    return frames


def parse_bytewise(data: bytes, version: str = "1.2", **limits: int) -> list[Frame]:
    """Every frame in `data` fed one byte per call."""
    parser = FrameParser(version, **limits)
    frames: list[Frame] = []
    for index in range(len(data)):
        frames += parser.feed(data[index : index + 1])
    parser.close()
    return frames


def parse_split(data: bytes, cuts: list[int], version: str = "1.2") -> list[Frame]:
    """Every frame in `data` fed in pieces cut at the offsets `cuts`."""
    parser = FrameParser(version)
    frames: list[Frame] = []
    bounds = [0, *sorted(cuts), len(data)]
    for start, stop in zip(bounds, bounds[1:], strict=False):
        frames += parser.feed(data[start:stop])
    parser.close()
    return frames


def parse_error(data: bytes, version: str = "1.2", **limits: int) -> FrameError:
    """The FrameError that feeding `data` (then closing) raises."""
    parser = FrameParser(version, **limits)
    with pytest.raises(FrameError) as caught:
        parser.feed(data)
        parser.close()
    return caught.value


def only(frames: list[Frame]) -> Frame:
    """The single frame of `frames`."""
    assert len(frames) == 1, frames
    return frames[0]
