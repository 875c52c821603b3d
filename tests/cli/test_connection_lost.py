"""A connection lost mid-subscribe, against a scripted peer: no real broker drops a connection on cue."""

from __future__ import annotations

import re
import socket
import threading

from cli_helpers import assert_one_error_line, run


def _read_frame(conn: socket.socket) -> bytes:
    data = b""
    while b"\0" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _peer_that_drops_after_one_message(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        _read_frame(conn)  # CONNECT
        conn.sendall(b"CONNECTED\nversion:1.2\n\n\0")
        subscribe = _read_frame(conn)
        receipt = re.search(rb"\nreceipt:([^\n]*)", subscribe)
        answer = b"RECEIPT\nreceipt-id:%s\n\n\0" % receipt.group(1) if receipt else b""
        conn.sendall(answer + b"MESSAGE\ndestination:/queue/q\nmessage-id:1\nsubscription:s\n\nfirst\0")


def test_subscribe_exits_3_with_one_line_when_the_connection_is_lost():
    with socket.create_server(("127.0.0.1", 0)) as server:
        peer = threading.Thread(target=_peer_that_drops_after_one_message, args=(server,), daemon=True)
        peer.start()
        url = f"stomp://127.0.0.1:{server.getsockname()[1]}"
        result = run("subscribe", "--url", url, "--heart-beat", "0,0", "--body-only", "/queue/q", timeout=60)
        peer.join(10)
    assert result.stdout == b"first\n"  # what arrived before the loss is written
    assert "connection lost" in assert_one_error_line(result, 3)
