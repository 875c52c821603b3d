"""Connection refuses nonsense numbers and headers before it touches the network."""

from __future__ import annotations

import math

import pytest

from stomper.connection import Connection
from stomper.session import MAX_HEART_BEAT_MS, MAX_TIMEOUT

URL = "stomp://guest:guest@127.0.0.1:1"


@pytest.mark.parametrize("heart_beat", [(math.nan, 0), (0, math.inf), (-1, 0), (0, MAX_HEART_BEAT_MS + 1), (99999999999999, 0)])
def test_heart_beat_out_of_range(heart_beat):
    with pytest.raises(ValueError, match=f"^heart_beat must be two numbers of milliseconds from 0 to {MAX_HEART_BEAT_MS}, not "):
        Connection(URL, heart_beat=heart_beat)


@pytest.mark.parametrize("name", ["connect_timeout", "reconnect_timeout"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, MAX_TIMEOUT + 1, None])
def test_timeouts_out_of_range(name, value):
    with pytest.raises(ValueError, match=f"^{name} must be a number of seconds"):
        Connection(URL, **{name: value})


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0])
def test_wait_timeouts_out_of_range(value):
    conn = Connection(URL)
    with pytest.raises(ValueError, match="^timeout must be a number of seconds from 0 to"):
        conn.receive(timeout=value)
    with pytest.raises(ValueError, match="^timeout must be a number of seconds from 0 to"):
        conn.wait_receipt("r", timeout=value)


def test_the_largest_values_are_accepted():
    conn = Connection(URL, heart_beat=(MAX_HEART_BEAT_MS, MAX_HEART_BEAT_MS), connect_timeout=MAX_TIMEOUT)
    assert conn.connect_timeout == MAX_TIMEOUT


@pytest.mark.parametrize("name", ["accept-version", "host", "login", "passcode", "heart-beat"])
def test_connect_headers_the_connection_sets_are_refused(name):
    with pytest.raises(ValueError, match=f"connect header '{name}' is set by the connection itself"):
        Connection(URL, connect_headers={name: "x"})
