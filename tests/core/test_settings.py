"""ConnectionSettings and parse_heart_beat: one parse and one check of everything a connection needs."""

from __future__ import annotations

import dataclasses
import math

import pytest

from stomper.connection import Connection
from stomper.settings import (
    DEFAULT_URL,
    MAX_HEART_BEAT,
    MAX_SECONDS,
    ConnectionSettings,
    check_seconds,
    parse_heart_beat,
)
from stomper.url import MASK, Endpoint


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10000,10000", (10000, 10000)), ("0,0", (0, 0)), (" 0 , 5000 ", (0, 5000)), (f"{MAX_HEART_BEAT},0", (MAX_HEART_BEAT, 0))],
)
def test_parse_heart_beat(text, expected):
    assert parse_heart_beat(text) == expected


@pytest.mark.parametrize(
    "text",
    ["99999999999999,0", "0,99999999999999", f"{MAX_HEART_BEAT + 1},0", "nan,0", "0,inf", "-1,0", "1.5,0", "10", "1,2,3", "", ",",
     "\u0661,0", "9" * 5000 + ",0"],
)
def test_parse_heart_beat_refuses(text):
    with pytest.raises(ValueError, match="CX,CY: two whole milliseconds from 0 to 1073741823"):
        parse_heart_beat(text)


def test_defaults_and_connection_kwargs_build_a_connection():
    settings = ConnectionSettings()
    assert settings.urls == (DEFAULT_URL,) and settings.endpoints == (Endpoint(False, "localhost", 61613),)
    assert (settings.heart_beat, settings.connect_timeout, settings.verify) == ((10000, 10000), 10.0, True)
    conn = Connection(**ConnectionSettings("stomp://u:pw@h/v", heart_beat="0,5000", version="1.1").connection_kwargs(), on_frame=print)
    assert conn.endpoints == [Endpoint(False, "h", 61613, "u", "pw", "v")]
    assert (conn.protocol.heart_beat, conn.protocol.pinned, conn._passcode) == ((0, 5000), "1.1", None)


def test_settings_are_frozen_and_never_show_the_passcode():
    settings = ConnectionSettings(["stomp://me:url-secret@h", "stomp+ssl://k"], login="me", passcode="refused")
    text = repr(settings)
    assert "url-secret" not in text and "refused" not in text and f"passcode={MASK!r}" in text
    assert settings.connection_kwargs()["passcode"] == "refused"
    assert settings.connection_kwargs()["urls"] == ["stomp://me:url-secret@h", "stomp+ssl://k"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.passcode = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"urls": []}, "no broker URL given"),
        ({"urls": "stomp://u:topsecret@h:0"}, "bad broker URL 'stomp://u:***@h:0'"),
        ({"heart_beat": (2**40, 0)}, "each heart-beat must be a whole number of milliseconds from 0 to 1073741823"),
        ({"heart_beat": (-1, 0)}, "from 0 to 1073741823"),
        ({"heart_beat": (MAX_HEART_BEAT + 1, 0)}, "from 0 to 1073741823"),
        ({"heart_beat": (1.5, 0)}, "from 0 to 1073741823, not 1.5"),
        ({"heart_beat": (0, math.inf)}, "from 0 to 1073741823, not inf"),
        ({"heart_beat": (1,)}, "two milliseconds"),
        ({"heart_beat": "nan,nan"}, "CX,CY"),
        ({"connect_timeout": math.nan}, "the connect timeout must be a number of seconds from 0.1 to 2147483"),
        ({"connect_timeout": math.inf}, "from 0.1 to 2147483"),
        ({"connect_timeout": 0.0}, "from 0.1 to 2147483"),
        ({"connect_timeout": MAX_SECONDS + 1}, "from 0.1 to 2147483"),
        ({"version": "2.0"}, "unknown STOMP version '2.0'"),
        ({"verify": "no"}, "verify must be True or False"),
        ({"passcode": 5}, "passcode must be text or None, not int"),
    ],
)
def test_bad_settings_are_value_errors_without_the_passcode(arguments, message):
    with pytest.raises(ValueError) as caught:
        ConnectionSettings(**{"passcode": "topsecret", **arguments})
    assert message in str(caught.value) and "topsecret" not in str(caught.value)


def test_check_seconds():
    assert check_seconds(0, "x") == 0.0 and check_seconds(MAX_SECONDS, "x") == MAX_SECONDS
    for bad in (math.nan, -math.inf, math.inf, -0.5, MAX_SECONDS + 0.5, True, "1"):
        with pytest.raises(ValueError, match="x must be a number of seconds from 0 to 2147483"):
            check_seconds(bad, "x")
