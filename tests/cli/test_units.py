"""Pieces of the CLI checked in-process: JSON frames, pipelined sending, formats."""

from __future__ import annotations

import io
from collections import deque
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from stomper import Frame
from stomper.frame import COMMANDS
from stomper.url import MASK
from stomper_cli.jsonlines import frame_json
from stomper_cli.pack import frame_from_json
from stomper_cli.render import FrameWriter, hex_dump, plain_text
from stomper_cli.send import PipelinedSender, stdin_lines, with_last
from stomper_cli.subscribe import wire_ack_mode

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10).filter(lambda name: name != "content-length")
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(st.sampled_from(sorted(COMMANDS)), st.dictionaries(names, values, max_size=5), st.binary(max_size=64))
def test_frame_json_round_trip(command, headers, body):
    frame = Frame(command, {name: value for name, value in headers.items() if name != "passcode"}, body)
    assert frame_from_json(frame_json(frame)) == frame


def test_passcode_masked_everywhere_but_on_request():
    frame = Frame("CONNECT", {"login": "me", "passcode": "pw"})
    assert frame_json(frame)["headers"]["passcode"] == MASK == "***"
    assert frame_json(frame, show_secrets=True)["headers"]["passcode"] == "pw"
    assert "pw" not in plain_text(frame)


def test_hex_dump():
    assert hex_dump(b"hello\x00world\xff12345678") == (
        "00000000  68 65 6c 6c 6f 00 77 6f  72 6c 64 ff 31 32 33 34  |hello.world.1234|\n"
        "00000010  35 36 37 38                                       |5678|"
    )


class Sink(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.buffer = io.BytesIO()


def test_writer_formats():
    frame = Frame("MESSAGE", {"destination": "/q", "message-id": "1", "subscription": "s"}, b"hi")
    outputs = {}
    for fmt in ("pretty", "json", "body", "raw"):
        sink = Sink()
        FrameWriter(fmt, "never", stream=sink).write(frame)
        outputs[fmt] = sink.buffer.getvalue()
    assert outputs["body"] == b"hi\n"
    assert outputs["raw"] == frame.encode()
    assert outputs["json"].startswith(b'{"command": "MESSAGE"')
    assert outputs["pretty"].startswith(b"MESSAGE\ndestination: /q\n")


class FakeConnection:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict]] = []
        self.waited: list[str] = []
        self.protocol = SimpleNamespace(errors=deque())  # no ERROR frame ever came

    def send(self, destination, body, headers=None, content_type=None, transaction=None):
        self.sent.append((body, dict(headers or {})))

    def flush(self):
        pass

    def wait_receipt(self, receipt_id):
        self.waited.append(receipt_id)


def test_lines_are_streamed_one_at_a_time():
    """The sender pulls one line ahead at most: a million lines are never held at once."""
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield b"line %d\n" % pulled

    conn = FakeConnection()
    sender = PipelinedSender(conn, "/q", [], None, None, receipts=True, batch=10)
    for count, (body, last) in enumerate(with_last(stdin_lines(endless())), 1):
        sender.send(body, last)
        assert pulled == count + 1
        if count == 95:
            break
    assert [body for body, _ in conn.sent[:2]] == [b"line 1", b"line 2"]
    receipts = [headers["receipt"] for _, headers in conn.sent if "receipt" in headers]
    assert len(receipts) == 9  # the 10th, 20th, ... 90th message
    assert conn.waited == receipts[:5]  # waits only when more than 4 batches are unconfirmed
    sender.finish()
    assert conn.waited == receipts


def test_last_line_always_asks_for_a_receipt_and_crlf_is_stripped():
    conn = FakeConnection()
    sender = PipelinedSender(conn, "/q", [("x", "1")], None, None, receipts=True, batch=1000)
    for body, last in with_last(stdin_lines(io.BytesIO(b"a\r\nb\nc"))):
        sender.send(body, last)
    sender.finish()
    assert [body for body, _ in conn.sent] == [b"a", b"b", b"c"]
    assert [("receipt" in headers) for _, headers in conn.sent] == [False, False, True]
    assert conn.waited == [conn.sent[-1][1]["receipt"]]
    assert all(headers["x"] == "1" for _, headers in conn.sent)


def test_count_makes_auto_mode_acknowledge_what_was_written():
    assert wire_ack_mode("auto", None, "1.2") == "auto"
    assert wire_ack_mode("auto", 5, "1.2") == "client"  # cumulative: one ACK per batch
    assert wire_ack_mode("auto", 5, "1.0") == "client"
    assert wire_ack_mode("client", None, "1.1") == "client"


def test_mask_hides_only_the_passcode_of_urls_and_keeps_every_word():
    from stomper_cli.errors import mask

    for passcode in ("refused", "p", "guest", "a@b:c"):
        text = f"connection refused for user 'guest' at stomp://guest:{passcode}@host (passcode header)"
        assert mask(text) == f"connection refused for user 'guest' at stomp://guest:{MASK}@host (passcode header)"
    assert mask("expected stomp://[login[:passcode]@]host[:port][/vhost]") == "expected stomp://[login[:passcode]@]host[:port][/vhost]"


def test_frame_dumps_mask_the_passcode_header_and_keep_every_other_letter():
    frame = Frame("CONNECT", {"login": "p", "passcode": "p", "host": "/"})
    assert plain_text(frame) == f"CONNECT\nlogin: p\npasscode: {MASK}\nhost: /\n\n\n"
