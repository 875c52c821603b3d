"""The single RabbitMQ serves STOMP over WebSocket (rabbitmq_web_stomp) on the
ports scripts/brokers gives it: ws on 15674 and wss, with the test CA's server
certificate, on 15673, both at /ws. Only the HTTP upgrade is checked here."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import REPO, skip_unless_brokers_wanted

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
WS_URL = os.environ.get("STOMPER_RABBITMQ_WS_URL", "ws://guest:guest@127.0.0.1:15674/ws")
WSS_URL = os.environ.get("STOMPER_RABBITMQ_WSS_URL", "wss://guest:guest@localhost:15673/ws")
CA_FILE = os.environ.get("STOMPER_TEST_CA") or str(Path(os.environ.get("STOMPER_BROKERS_DIR", REPO / ".brokers")) / "certs" / "ca.pem")


def open_stream(url: str, context: ssl.SSLContext | None) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    if parts.scheme == "wss":
        assert context is not None
        return context.wrap_socket(sock, server_hostname=parts.hostname)
    return sock


def upgrade(url: str, context: ssl.SSLContext | None = None) -> tuple[str, dict[str, str], str]:
    """Send a WebSocket upgrade offering STOMP 1.2; return (status line, headers, the key sent)."""
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n"
    )
    with open_stream(url, context) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    status, *lines = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, key


def expected_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


@pytest.fixture(params=["ws", "wss"])
def web_stomp_url(request) -> str:
    skip_unless_brokers_wanted()
    return {"ws": WS_URL, "wss": WSS_URL}[request.param]


@pytest.mark.broker
def test_the_websocket_upgrade_answers_101_with_the_stomp_subprotocol(web_stomp_url):
    context = ssl.create_default_context(cafile=CA_FILE)
    status, headers, key = upgrade(web_stomp_url, context)
    assert status.split(" ")[1] == "101", status
    assert headers["upgrade"].lower() == "websocket"
    assert headers["sec-websocket-accept"] == expected_accept(key)
    assert headers["sec-websocket-protocol"] == "v12.stomp"


@pytest.mark.broker
def test_wss_is_refused_without_the_test_ca():
    skip_unless_brokers_wanted()
    with pytest.raises(ssl.SSLCertVerificationError):
        upgrade(WSS_URL, ssl.create_default_context())
