"""stomper.versions: each version's rules, stated once and looked up everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stomper import commands
from stomper.errors import FrameError
from stomper.frame import Frame
from stomper.rules import REQUIRED_HEADERS, version_problem
from stomper.versions import ACK_MODES, SPECS, VERSIONS, spec

PACKAGE = Path(__file__).resolve().parents[2] / "stomper"


def test_the_versions_and_their_rules():
    assert VERSIONS == ("1.0", "1.1", "1.2") and ACK_MODES == ("auto", "client", "client-individual")
    v10, v11, v12 = (SPECS[name] for name in VERSIONS)
    assert (v10.escapes_headers, v11.escapes_headers, v12.escapes_headers) == (False, True, True)
    assert v11.unescapes == {"\\": "\\", "n": "\n", "c": ":"} and v12.unescapes == {**v11.unescapes, "r": "\r"}
    assert (v10.crlf, v11.crlf, v12.crlf) == (False, False, True)
    assert v10.missing_commands == {"NACK", "STOMP"} and not v11.missing_commands and not v12.missing_commands
    assert [version.ack_headers for version in (v10, v11, v12)] == [("message-id",), ("message-id", "subscription"), ("id",)]
    assert "client-individual" not in v10.ack_modes and v11.ack_modes == v12.ack_modes == ACK_MODES
    assert (v10.has_heart_beats, v11.has_host_header, v12.needs_subscription_id) == (False, True, True)


def test_an_unknown_version_is_refused():
    with pytest.raises(FrameError, match="unknown STOMP version '2.0': expected one of 1.0, 1.1, 1.2"):
        spec("2.0")


def test_the_required_headers_table_is_unchanged():
    assert REQUIRED_HEADERS["CONNECT"] == {"1.0": (), "1.1": ("accept-version", "host"), "1.2": ("accept-version", "host")}
    assert REQUIRED_HEADERS["ACK"] == {"1.0": ("message-id",), "1.1": ("message-id", "subscription"), "1.2": ("id",)}
    assert REQUIRED_HEADERS["MESSAGE"]["1.0"] == ("destination", "message-id")
    assert REQUIRED_HEADERS["MESSAGE"]["1.2"] == ("destination", "message-id", "subscription")
    assert REQUIRED_HEADERS["UNSUBSCRIBE"] == {"1.0": (), "1.1": ("id",), "1.2": ("id",)}


def test_1_0_has_no_nack_wherever_it_is_asked():
    message = Frame("MESSAGE", {"destination": "/q", "message-id": "m"})
    with pytest.raises(FrameError, match="STOMP 1.0 has no NACK command"):
        commands.nack(message, version="1.0")
    with pytest.raises(FrameError, match="STOMP 1.0 has no NACK command"):
        Frame("NACK", {"message-id": "m"}).encode("1.0")
    assert version_problem(Frame("NACK", {"message-id": "m"}), "1.0") == "STOMP 1.0 has no NACK command"


def test_acks_name_the_message_as_the_version_says():
    message = Frame("MESSAGE", {"destination": "/q", "message-id": "m", "subscription": "s", "ack": "a"})
    assert commands.ack(message, version="1.2").headers == {"id": "a"}
    assert commands.ack(message, version="1.1").headers == {"message-id": "m", "subscription": "s"}
    assert commands.ack(message, version="1.0").headers == {"message-id": "m"}


def test_no_version_string_comparisons_outside_the_versions_table():
    """Each version rule is a lookup in stomper.versions."""
    pattern = re.compile(r"version\s*[!=]=\s*['\"]1\.\d['\"]")
    found = [
        f"{path.name}:{number}"
        for path in sorted([*PACKAGE.glob("*.py"), *PACKAGE.parent.joinpath("stomper_cli").glob("*.py")])
        if path.name != "versions.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
