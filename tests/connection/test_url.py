"""parse_url and Endpoint."""

from __future__ import annotations

import pytest

from stomper.connection import Connection, Endpoint, parse_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("stomp://localhost", Endpoint(False, "localhost", 61613)),
        ("stomp://h:1234", Endpoint(False, "h", 1234)),
        ("stomp+ssl://h", Endpoint(True, "h", 61614)),
        ("stomp://guest:guest@127.0.0.1:61613", Endpoint(False, "127.0.0.1", 61613, "guest", "guest")),
        ("stomp://u%40x:p%3Aw@h/vh", Endpoint(False, "h", 61613, "u@x", "p:w", "vh")),
        ("stomp://h/%2F", Endpoint(False, "h", 61613, None, None, "/")),
        ("stomp://u@[::1]:7", Endpoint(False, "::1", 7, "u")),
    ],
)
def test_parse_url(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize("url", ["localhost:61613", "http://h", "stomp://", "stomp://h:99999", "stomp://h:x", "stomp://h?a=1"])
def test_bad_urls(url):
    with pytest.raises(ValueError):
        parse_url(url)


def test_bad_url_error_masks_the_passcode():
    with pytest.raises(ValueError) as caught:
        parse_url("http://u:topsecret@h")
    assert "topsecret" not in str(caught.value)


def test_str_masks_the_passcode():
    assert str(parse_url("stomp://guest:guest@127.0.0.1")) == "stomp://guest:***@127.0.0.1:61613"
    assert str(parse_url("stomp+ssl://u@[::1]:7/v")) == "stomp+ssl://u@[::1]:7/v"


def test_host_header_defaults_to_vhost_then_slash():
    conn = Connection(["stomp://h", "stomp://h/vh"])
    assert conn._endpoint_auth(conn.endpoints[0])[2] == "/"
    assert conn._endpoint_auth(conn.endpoints[1])[2] == "vh"
    assert Connection("stomp://h/vh", vhost="other")._endpoint_auth(parse_url("stomp://h/vh"))[2] == "other"


def test_bad_version():
    with pytest.raises(ValueError):
        Connection("stomp://h", version="2.0")
