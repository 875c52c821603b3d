"""stomper.rules: what each version requires of a frame beyond its syntax."""

from __future__ import annotations

import pytest

from stomper import Frame
from stomper.rules import version_problem


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_a_send_needs_a_destination(version: str) -> None:
    assert version_problem(Frame("SEND", {"destination": "/q"}, b"x"), version) is None
    assert version_problem(Frame("SEND", {}, b"x"), version) == f"SEND needs destination in STOMP {version}"


def test_subscribe_ids_are_required_from_1_1() -> None:
    frame = Frame("SUBSCRIBE", {"destination": "/q"})
    assert version_problem(frame, "1.0") is None
    assert version_problem(frame, "1.1") == "SUBSCRIBE needs id in STOMP 1.1"


@pytest.mark.parametrize(
    ("version", "headers", "missing"),
    [("1.0", {}, "message-id"), ("1.1", {"message-id": "m"}, "subscription"), ("1.2", {"message-id": "m"}, "id")],
)
def test_ack_headers_follow_the_version(version: str, headers: dict, missing: str) -> None:
    assert version_problem(Frame("ACK", headers), version) == f"ACK needs {missing} in STOMP {version}"


def test_commands_a_version_lacks_and_bodies_where_none_may_be() -> None:
    assert version_problem(Frame("NACK", {"message-id": "m"}), "1.0") == "STOMP 1.0 has no NACK command"
    assert version_problem(Frame("BEGIN", {"transaction": "t"}, b"x"), "1.2") == "BEGIN frames may not have a body"


def test_unsubscribe_in_1_0_takes_an_id_or_a_destination() -> None:
    assert version_problem(Frame("UNSUBSCRIBE", {"destination": "/q"}), "1.0") is None
    assert version_problem(Frame("UNSUBSCRIBE", {}), "1.0") == "UNSUBSCRIBE needs id or destination in STOMP 1.0"
