"""The example frames of the STOMP 1.2 specification, verbatim (^@ is NUL).

Source: https://stomp.github.io/stomp-specification-1.2.html
"""

from __future__ import annotations

import pytest

from stomper import Engine, Frame, FrameError, FrameParser
from stomper.engine import negotiate_heart_beat

from .support import only, parse_all, parse_bytewise


def wire(example: str) -> bytes:
    """The spec writes the NUL octet as ^@."""
    return example.replace("^@", "\0").encode("utf-8")


ERROR_BODY = (
    "The message:\n-----\nMESSAGE\ndestined:/queue/a\nreceipt:message-12345\n\nHello queue a!\n-----\n"
    "Did not contain a destination header, which is REQUIRED\nfor message propagation.\n"
)

# (spec text, command, headers, body)
EXAMPLES = [
    ("CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n^@",
     "CONNECT", {"accept-version": "1.2", "host": "stomp.github.org"}, b""),
    ("CONNECTED\nversion:1.2\n\n^@", "CONNECTED", {"version": "1.2"}, b""),
    ("CONNECT\naccept-version:1.0,1.1,2.0\nhost:stomp.github.org\n\n^@",
     "CONNECT", {"accept-version": "1.0,1.1,2.0", "host": "stomp.github.org"}, b""),
    ("CONNECTED\nversion:1.1\n\n^@", "CONNECTED", {"version": "1.1"}, b""),
    ("ERROR\nversion:1.2,2.1\ncontent-type:text/plain\n\nSupported protocol versions are 1.2 2.1^@",
     "ERROR", {"version": "1.2,2.1", "content-type": "text/plain"}, b"Supported protocol versions are 1.2 2.1"),
    ("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\n^@",
     "SEND", {"destination": "/queue/a", "content-type": "text/plain"}, b"hello queue a\n"),
    ("SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n^@",
     "SUBSCRIBE", {"id": "0", "destination": "/queue/foo", "ack": "client"}, b""),
    ("UNSUBSCRIBE\nid:0\n\n^@", "UNSUBSCRIBE", {"id": "0"}, b""),
    ("ACK\nid:12345\ntransaction:tx1\n\n^@", "ACK", {"id": "12345", "transaction": "tx1"}, b""),
    ("BEGIN\ntransaction:tx1\n\n^@", "BEGIN", {"transaction": "tx1"}, b""),
    ("COMMIT\ntransaction:tx1\n\n^@", "COMMIT", {"transaction": "tx1"}, b""),
    ("ABORT\ntransaction:tx1\n\n^@", "ABORT", {"transaction": "tx1"}, b""),
    ("SEND\ndestination:/queue/a\nreceipt:message-12345\n\nhello queue a^@",
     "SEND", {"destination": "/queue/a", "receipt": "message-12345"}, b"hello queue a"),
    ("MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a^@",
     "MESSAGE", {"subscription": "0", "message-id": "007", "destination": "/queue/a", "content-type": "text/plain"},
     b"hello queue a"),
    ("RECEIPT\nreceipt-id:message-12345\n\n^@", "RECEIPT", {"receipt-id": "message-12345"}, b""),
    ("ERROR\nreceipt-id:message-12345\ncontent-type:text/plain\ncontent-length:170\nmessage:malformed frame received\n\n"
     + ERROR_BODY + "^@",
     "ERROR", {"receipt-id": "message-12345", "content-type": "text/plain", "content-length": "170",
               "message": "malformed frame received"}, ERROR_BODY.encode()),
]
IDS = [example[0].split("\n", 2)[0] + ":" + example[0].split("\n", 2)[1] for example in EXAMPLES]


@pytest.mark.parametrize(("text", "command", "headers", "body"), EXAMPLES, ids=IDS)
def test_spec_example_parses(text: str, command: str, headers: dict, body: bytes) -> None:
    frame = only(parse_all(wire(text)))
    assert (frame.command, frame.headers, frame.body, frame.repeated_headers) == (command, headers, body, [])
    assert only(parse_bytewise(wire(text))) == frame


@pytest.mark.parametrize(("text", "command", "headers", "body"), EXAMPLES, ids=IDS)
def test_spec_example_encodes_back(text: str, command: str, headers: dict, body: bytes) -> None:
    frame = Frame(command, headers, body)
    encoded = frame.encode("1.2", content_length=False)
    assert encoded == wire(text)
    assert only(parse_all(encoded)) == frame


def test_error_example_body_is_exactly_its_content_length() -> None:
    frame = only(parse_all(wire(EXAMPLES[-1][0])))
    assert len(frame.body) == 170
    assert b"\n\n" in frame.body and frame.body.endswith(b"propagation.\n")


def test_all_examples_as_one_stream_with_heart_beats_between() -> None:
    stream = b"\n".join(wire(example[0]) for example in EXAMPLES) + b"\r\n"
    parser = FrameParser()
    frames = parser.feed(stream)
    assert [frame.command for frame in frames] == [example[1] for example in EXAMPLES]
    assert parser.heartbeats == len(EXAMPLES)
    assert parse_bytewise(stream) == frames


def test_repeated_header_example_uses_the_first_value() -> None:
    frame = only(parse_all(wire("MESSAGE\nfoo:World\nfoo:Hello\n\n^@")))
    assert frame.headers["foo"] == "World"
    assert frame.repeated_headers == [("foo", "Hello")]
    assert frame.encode() == wire("MESSAGE\nfoo:World\nfoo:Hello\n\n^@")


def test_disconnect_and_receipt_examples_lack_the_blank_line_the_grammar_requires() -> None:
    """The spec prints these two without the blank line its own BNF requires.

    The parser is strict: with the blank line they parse; as printed, no frame
    comes out and the stream is reported as malformed.
    """
    assert only(parse_all(wire("DISCONNECT\nreceipt:77\n\n^@"))).headers == {"receipt": "77"}
    assert only(parse_all(wire("RECEIPT\nreceipt-id:77\n\n^@"))).headers == {"receipt-id": "77"}
    parser = FrameParser()
    assert parser.feed(wire("RECEIPT\nreceipt-id:77\n^@")) == []
    with pytest.raises(FrameError):
        parser.feed(wire("MESSAGE\ndestination:/queue/a\n\n^@"))


def test_connected_examples_drive_version_negotiation() -> None:
    engine = Engine()
    engine.react(only(parse_all(wire("CONNECTED\nversion:1.1\n\n^@"))))
    assert engine.version == "1.1"
    engine.react(only(parse_all(wire("CONNECTED\nversion:1.2\n\n^@"))))
    assert engine.version == "1.2"


@pytest.mark.parametrize(
    ("client", "server", "agreed"),
    [
        ((0, 0), "0,0", (0, 0)),
        ((100, 200), None, (0, 0)),  # missing header = 0,0
        ((100, 200), "300,400", (400, 300)),  # MAX(cx, sy), MAX(cy, sx)
        ((0, 200), "300,400", (0, 300)),  # cx = 0: the client sends none
        ((100, 0), "300,400", (400, 0)),  # cy = 0: the client wants none
        ((500, 50), "10,20", (500, 50)),
        ((100, 200), "0,400", (400, 0)),  # sx = 0: the server sends none
        ((100, 200), "300,0", (0, 300)),  # sy = 0: the server wants none
    ],
)
def test_heart_beat_negotiation_follows_the_spec(client: tuple[int, int], server: str | None, agreed: tuple[int, int]) -> None:
    assert negotiate_heart_beat(client, server) == agreed
    engine = Engine(heart_beat=client)
    headers = "" if server is None else f"heart-beat:{server}\n"
    engine.react(f"CONNECTED\nversion:1.2\n{headers}\n\0")
    assert engine.heart_beats == agreed
