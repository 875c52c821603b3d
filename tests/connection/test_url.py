"""parse_url, Endpoint, the table of schemes and masking the passcode of a URL."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from stomper.connection import Connection, Endpoint, parse_url
from stomper.url import MASK, SCHEMES, mask_url, mask_urls_in, scheme_names


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


# --- one table of schemes, case-insensitive ------------------------------------------------------------


@pytest.mark.parametrize(("scheme", "row"), sorted(SCHEMES.items()))
def test_every_scheme_of_the_table_parses_in_any_case(scheme, row):
    for spelled in (scheme, scheme.upper(), scheme.title()):
        endpoint = parse_url(f"{spelled}://u:pw@h")
        assert (endpoint.transport, endpoint.tls, endpoint.port) == row
        shown = {("tcp", False): "stomp", ("tcp", True): "stomp+ssl", ("ws", False): "ws", ("ws", True): "wss"}[row.transport, row.tls]
        path = "/" if row.transport == "ws" else ""
        assert str(endpoint) == f"{shown}://u:{MASK}@h:{row.default_port}{path}"


@pytest.mark.parametrize(
    ("url", "expected", "shown"),
    [
        ("ws://h", Endpoint(False, "h", 80, transport="ws", path="/"), "ws://h:80/"),
        ("wss://h", Endpoint(True, "h", 443, transport="ws", path="/"), "wss://h:443/"),
        ("ws://guest:guest@127.0.0.1:15674/ws", Endpoint(False, "127.0.0.1", 15674, "guest", "guest", transport="ws", path="/ws"),
         f"ws://guest:{MASK}@127.0.0.1:15674/ws"),
        ("WSS://u@[::1]:7/a/b%20c", Endpoint(True, "::1", 7, "u", transport="ws", path="/a/b%20c"), "wss://u@[::1]:7/a/b%20c"),
    ],
)
def test_a_websocket_url_keeps_its_http_path_and_has_no_vhost(url, expected, shown):
    endpoint = parse_url(url)
    assert endpoint == expected and endpoint.vhost is None
    assert str(endpoint) == shown
    assert parse_url(str(endpoint).replace(MASK, "guest")).path == endpoint.path


def test_the_vhost_of_a_websocket_connection_comes_from_the_argument_only():
    conn = Connection("ws://h/ws", vhost="vh")
    assert conn._endpoint_auth(conn.endpoints[0])[2] == "vh"
    assert Connection("ws://h/ws")._endpoint_auth(parse_url("ws://h/ws"))[2] == "/"


def test_the_connection_and_the_cli_use_the_one_table():
    conn = Connection(["STOMP://h", "stomp+TLS://h", "tcp://h", "stomps://h", "ssl://h"])
    shown = [str(endpoint) for endpoint in conn.endpoints]
    assert shown == ["stomp://h:61613", "stomp+ssl://h:61614", "stomp://h:61613", "stomp+ssl://h:61614", "stomp+ssl://h:61614"]
    assert scheme_names().split(", ") == [f"{name}://" for name in SCHEMES]


# --- every refusal masks the passcode ----------------------------------------------------------------------

SECRET = "S3cretPW"
REFUSED = {
    f"ftp://user:{SECRET}@h": "scheme is one of",
    f"stomp:/user:{SECRET}@h": "expected stomp://",
    f"stomp:user:{SECRET}@h": "expected stomp://",
    f"user:{SECRET}@h:61613": "expected stomp://",
    f"stomp://user:{SECRET}@h:0": "from 1 to 65535",
    f"stomp://user:{SECRET}@h:65536": "from 1 to 65535",
    f"stomp://user:{SECRET}@h:port": "from 1 to 65535",
    f"stomp://user:{SECRET}@h?x=1": "no query or fragment",
    f"stomp://user:{SECRET}@h?": "no query or fragment",
    f"stomp://user:{SECRET}@h#top": "no query or fragment",
    f"stomp://user:{SECRET}@[::1": "invalid ipv6 url",
    f"stomp://user:{SECRET}\uff03x@h": "not a URL",
    f"stomp://user:{SECRET}@": "no host",
    f"stomp://user:a/{SECRET}@h": "from 1 to 65535",
}


@pytest.mark.parametrize(("url", "why"), REFUSED.items())
def test_refused_urls_are_shown_with_the_passcode_masked(url, why):
    with pytest.raises(ValueError) as caught:
        parse_url(url)
    message = str(caught.value)
    assert SECRET not in message and "a/" not in message
    assert f":{MASK}@h" in message or f":{MASK}@[" in message or message.endswith(f":{MASK}@': no host")
    assert why in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("stomp://u:p@ss:w@h/v", f"stomp://u:{MASK}@h/v"),
        ("stomp:/u:pw@h", f"stomp:/u:{MASK}@h"),
        ("u:pw@h", f"u:{MASK}@h"),
        ("stomp://:pw@h", f"stomp://:{MASK}@h"),
        ("stomp://u@h", "stomp://u@h"),
        ("stomp://h:61613/v", "stomp://h:61613/v"),
        ("localhost:61613", "localhost:61613"),
    ],
)
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_passcodes_are_masked_where_they_stand_not_wherever_their_text_appears():
    for passcode in ("refused", "p", "guest", "a@b:c"):
        endpoint = parse_url(f"stomp://guest:{quote(passcode, safe='')}@127.0.0.1")
        assert endpoint.passcode == passcode
        assert str(endpoint) == f"stomp://guest:{MASK}@127.0.0.1:61613"
        assert f"passcode={MASK!r}" in repr(endpoint) and f"{passcode!r}" not in repr(endpoint).replace("'guest'", "")
        text = f"could not connect to stomp://guest:{passcode}@127.0.0.1:61613: connection refused (passcode p)"
        assert mask_urls_in(text) == f"could not connect to stomp://guest:{MASK}@127.0.0.1:61613: connection refused (passcode p)"
