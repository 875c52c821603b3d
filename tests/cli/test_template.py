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
