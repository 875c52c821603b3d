"""Output templates compile once and render frames byte for byte."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from stomper.frame import Frame
from stomper_cli.template import TemplateError, compile_template

WHEN = datetime(2026, 11, 30, 8, 0, 1, 250000, tzinfo=UTC)


def message(body: bytes = b"hello", **headers: str) -> Frame:
    return Frame("MESSAGE", {"destination": "/queue/a", "message-id": "m-1", **headers}, body)


def render(template: str, frame: Frame, count: int = 1) -> bytes:
    return compile_template(template)(frame, count, WHEN)


def test_every_placeholder():
    frame = message(b"\x00\xffbin")
    out = render("{command}|{destination}|{header:message-id}|{body_length}|{body_base64}|{time}|{count}|{body}", frame, 7)
    expected = b"MESSAGE|/queue/a|m-1|5|" + base64.b64encode(b"\x00\xffbin") + b"|2026-11-30T08:00:01.250000+00:00|7|\x00\xffbin"
    assert out == expected


def test_missing_header_is_empty_and_no_newline_is_added():
    assert render("[{nope}]", message()) == b"[]"


def test_escapes_and_literal_braces():
    assert render(r"a\tb\n\0\\{{x}}\r", message()) == b"a\tb\n\0\\{x}\r"


def test_header_form_reaches_names_that_are_placeholder_words():
    frame = Frame("MESSAGE", {"destination": "/q", "body": "header-value"}, b"B")
    assert render("{body}/{header:body}", frame) == b"B/header-value"


@pytest.mark.parametrize(
    ("template", "words"),
    [("{", "unmatched '{'"), ("}", "unmatched '}'"), ("{}", "empty placeholder"), (r"\q", "unknown escape"), ("{header:}", "empty placeholder")],
)
def test_bad_templates_say_what_is_wrong(template, words):
    with pytest.raises(TemplateError, match=words):
        compile_template(template)


def test_header_values_and_non_ascii_are_utf8():
    assert render("{x}", message(x="žluť")) == "žluť".encode()


def run_unpack(*args: str, stream: bytes) -> tuple[int, bytes, bytes]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "stomper_cli", "unpack", *args], input=stream, capture_output=True, check=False)
    return done.returncode, done.stdout, done.stderr


TWO_DESTINATIONS = b"MESSAGE\ndestination:/queue/a\n\nfirst\x00MESSAGE\ndestination:/topic/b\ncontent-length:4\n\n\x00\n\x01\xff\x00"


def test_unpack_template_over_two_destinations_is_byte_exact():
    code, out, _ = run_unpack("--template", r"{count} {destination} {body_length}:{body}\n", stream=TWO_DESTINATIONS)
    assert code == 0
    assert out == b"1 /queue/a 5:first\n2 /topic/b 4:\x00\n\x01\xff\n"


def test_unpack_bad_template_is_a_usage_error_in_one_line():
    code, _, err = run_unpack("--template", "{body", stream=b"")
    assert code == 2 and b"unmatched '{'" in err and b"Traceback" not in err


def test_unpack_json_and_template_together_is_a_usage_error():
    code, _, err = run_unpack("--json", "--template", "{body}", stream=b"")
    assert code == 2 and b"--json or --template" in err


def test_body_delimiter_nul_splits_binary_bodies_with_newlines():
    import io

    from stomper_cli.render import FrameWriter

    out = io.BytesIO()
    stream = io.TextIOWrapper(out, write_through=True)
    writer = FrameWriter("body", stream=stream, delimiter=b"\x00")
    bodies = [b"line one\nline two", b"\x01\x02\n", b""]
    for body in bodies:
        writer.write(Frame("MESSAGE", {"destination": "/q"}, body))
    assert out.getvalue().split(b"\x00")[:-1] == bodies  # what xargs -0 sees
