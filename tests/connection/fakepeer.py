"""A tiny scripted STOMP peer, for what no real broker can be made to do.

It accepts connections on 127.0.0.1, reads each CONNECT, answers with
`connected` (bytes) and then runs `script` for that connection: a list of
steps, each ("send", bytes), ("sleep", seconds), ("close",), ("hold",) (keep
the socket open and read until the client goes), or ("expect", n) (read until
n more NUL bytes came). Everything the client writes is kept in `received`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

CONNECTED = b"CONNECTED\nversion:1.2\nserver:fake/1\n\n\0"


class FakePeer:
    def __init__(self, script=(), connected: bytes = CONNECTED, connections: int = 1) -> None:
        self.script = list(script)
        self.connected = connected
        self.received = bytearray()
        self.accepted = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._connections = connections
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"stomp://user:secret@127.0.0.1:{self.port}"

    def __enter__(self) -> FakePeer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._thread.join(5)  # let the script finish reading what the client sent
        self._stop.set()
        for client in self._clients:
            with contextlib.suppress(OSError):
                client.close()
        self._server.close()
        self._thread.join(10)

    def data(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def _serve(self) -> None:
        while not self._stop.is_set() and self.accepted < self._connections:
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._clients.append(client)
            try:
                self._run(client)
            except OSError:
                pass
            finally:
                client.close()

    def _read(self, client: socket.socket) -> bytes:
        client.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = client.recv(65536)
            except TimeoutError:
                continue
            with self._lock:
                self.received += data
            return data
        return b""

    def _expect_nuls(self, client: socket.socket, count: int) -> None:
        start = self.data().count(0)
        while self.data().count(0) - start < count:
            if not self._read(client):
                return

    def _run(self, client: socket.socket) -> None:
        self._expect_nuls(client, 1)  # CONNECT
        client.sendall(self.connected)
        for step in self.script:
            kind = step[0]
            if kind == "send":
                client.sendall(step[1])
            elif kind == "sleep":
                deadline = time.monotonic() + step[1]
                while time.monotonic() < deadline and not self._stop.is_set():
                    time.sleep(0.02)
            elif kind == "close":
                client.shutdown(socket.SHUT_RDWR)
                return
            elif kind == "expect":
                self._expect_nuls(client, step[1])
            elif kind == "hold":
                while self._read(client):
                    pass
                return
