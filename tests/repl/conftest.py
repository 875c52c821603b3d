"""Fixtures for the REPL tests: `stomper repl` as a real process, the real brokers, a scripted fake broker."""

from __future__ import annotations

import functools
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from stomper import Frame, FrameParser

BROKER_URLS = {"rabbitmq": "stomp://guest:guest@127.0.0.1:61613", "activemq": "stomp://admin:admin@127.0.0.1:61623"}
@dataclass
class Broker:
    name: str
    url: str


@functools.cache
def unreachable(url: str) -> str | None:
    """Why nothing answers at `url`'s address, or None when something does (asked once per run)."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except OSError as error:
        return f"nothing answers at {parts.hostname}:{parts.port} ({error}): run scripts/brokers start"
    return None


@pytest.fixture(params=sorted(BROKER_URLS))
def broker(request) -> Broker:
    """A real broker from scripts/brokers; one that does not answer fails the test (skips with STOMPER_SKIP_BROKERS=1)."""
    url = os.environ.get(f"STOMPER_{request.param.upper()}_URL", BROKER_URLS[request.param])
    why = unreachable(url)
    if why is not None:
        (pytest.skip if os.environ.get("STOMPER_SKIP_BROKERS") == "1" else pytest.fail)(f"{request.param}: {why}")
    return Broker(request.param, url)


@pytest.fixture
def queue(request) -> str:
    """A queue name no other test uses."""
    return f"/queue/stomper-repl-{request.node.name.split('[')[0][5:25]}-{uuid.uuid4().hex[:10]}"


@dataclass
class FakeBroker:
    """A tiny STOMP 1.2 server on 127.0.0.1 for what real brokers cannot be made to do on demand.

    It answers CONNECT and every `receipt` header, except a SEND's to
    /queue/silent. A SEND to /queue/drop closes the connection at once; a
    SEND to /queue/error gets an ERROR frame. `connections` holds the frames each connection received.
    """

    port: int = 0
    #: The heart-beat header of its CONNECTED.
    heart_beat: str = "0,0"
    connections: list[list[Frame]] = field(default_factory=list)
    _server: socket.socket | None = None
    _stopped: bool = False

    @property
    def url(self) -> str:
        return f"stomp://user:fake-S3cret-pass@127.0.0.1:{self.port}"

    def start(self) -> FakeBroker:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._server.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            received: list[Frame] = []
            self.connections.append(received)
            threading.Thread(target=self._serve, args=(client, received), daemon=True).start()

    def _serve(self, client: socket.socket, received: list[Frame]) -> None:
        parser = FrameParser("1.2")
        with client:
            while data := client.recv(65536):
                for frame in parser.feed(data):
                    received.append(frame)
                    if not self._answer(client, frame):
                        return

    def _answer(self, client: socket.socket, frame: Frame) -> bool:
        """Reply to `frame`; False to close the connection."""
        replies = []
        destination = frame.headers.get("destination")
        if frame.command in ("CONNECT", "STOMP"):
            replies.append(Frame("CONNECTED", {"version": "1.2", "heart-beat": self.heart_beat, "server": "fake/1", "session": "s-1"}))
        elif frame.command == "SEND" and destination == "/queue/drop":
            return False
        elif frame.command == "SEND" and destination == "/queue/error":
            replies.append(Frame("ERROR", {"message": "refused by the fake broker"}, b"details"))
        if "receipt" in frame.headers and destination != "/queue/silent":
            replies.append(Frame("RECEIPT", {"receipt-id": frame.headers["receipt"]}))
        client.sendall(b"".join(reply.encode("1.2") for reply in replies))
        return frame.command != "DISCONNECT"


@pytest.fixture
def fake_broker():
    fake = FakeBroker().start()
    yield fake
    fake.stop()
