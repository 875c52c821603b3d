"""Options of send and subscribe checked without a broker: sizes, headers stomper sets itself, the frame-size limit."""

from __future__ import annotations

import click
import pytest
from cli_helpers import assert_one_error_line, run

from stomper import Frame
from stomper.errors import ConnectionLost, FrameTooLarge, ReceiptTimeout
from stomper_cli.options import ByteSize, failure, format_size, too_large

NOWHERE = "stomp://127.0.0.1:9"  # nothing listens: a usage error must come before any attempt to connect


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", 1048576), ("1k", 1000), ("1K", 1000), ("1kB", 1000), ("1KiB", 1024), ("64MiB", 64 * 2**20), ("64 mib", 64 * 2**20),
     ("2GB", 2 * 10**9), ("1GiB", 2**30), ("512b", 512)],
)
def test_sizes_take_si_and_binary_units(text, size):
    assert ByteSize().convert(text, None, None) == size


@pytest.mark.parametrize("text", ["0", "0MiB", "-1", "1.5M", "12 parsecs", "", "k", "9" * 40])
def test_a_size_that_is_not_one_is_a_usage_error(text):
    with pytest.raises(click.BadParameter):
        ByteSize().convert(text, None, None)


def test_sizes_are_shown_in_the_unit_that_divides_them():
    assert [format_size(size) for size in (64 * 2**20, 2**10, 1000, 1500, 2 * 10**9, 17)] == [
        "64 MiB", "1 KiB", "1 kB", "1500 bytes", "2 GB", "17 bytes",
    ]


def test_a_frame_over_the_limit_is_found_behind_a_lost_connection():
    cause = FrameTooLarge("content-length 2000 exceeds the frame size limit of 1000 bytes", 0, 2000, 1000)
    lost = ConnectionLost("connection lost: the broker sent a malformed frame")
    lost.__cause__ = cause
    assert too_large(lost) == (2000, 1000)
    reported = failure(lost)
    assert (reported.exit_code, reported.message) == (1, "frame of 2000 bytes exceeds --max-frame-size (1 kB)")
    # A connection that says it only in words is understood too.
    words = ConnectionLost(f"connection lost (stomp://h:1): the broker sent a malformed frame: {cause}")
    assert failure(words).message == "frame of 2000 bytes exceeds --max-frame-size (1 kB)"
    assert too_large(ConnectionLost("connection lost: the broker closed the connection")) is None


def test_a_missing_receipt_says_how_long_it_was_awaited():
    reported = failure(ReceiptTimeout("no receipt 'send-1' from the broker within 1.5 s"), "confirmed 3 of 7 messages", 1.5)
    assert (reported.exit_code, reported.message) == (3, "no receipt for 1.5 s; confirmed 3 of 7 messages")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["send", "/queue/q", "x", "-H", "destination:/queue/other"], "the DESTINATION argument"),
        (["send", "/queue/q", "x", "-H", "receipt:mine"], "--receipt/--no-receipt"),
        (["send", "/queue/q", "x", "-H", "transaction:tx-1"], "--transaction"),
        (["send", "/queue/q", "x", "-H", "content-length:1"], "stomper from the body"),
        (["send", "/queue/q", "x", "--content-type", "text/plain", "-H", "content-type:text/html"], "--content-type"),
        (["subscribe", "/queue/q", "-H", "id:mine"], "--id"),
        (["subscribe", "/queue/q", "-H", "ack:client"], "--ack"),
        (["subscribe", "/queue/q", "-H", "destination:/queue/other"], "the DESTINATION argument"),
        (["subscribe", "/queue/q", "-H", "receipt:r"], "stomper, to confirm the subscription"),
    ],
)
def test_a_header_the_command_sets_itself_is_a_usage_error_naming_what_sets_it(args, named):
    line = assert_one_error_line(run(*args, "--url", NOWHERE), 2)
    header = next(value.split(":")[0] for flag, value in zip(args, args[1:], strict=False) if flag == "-H")
    assert f"the {header} header is set by {named}" in line, line


def test_one_id_names_one_subscription():
    line = assert_one_error_line(run("subscribe", "/queue/a", "/queue/b", "--id", "mine", "--url", NOWHERE), 2)
    assert "--id" in line


def test_receipt_timeout_is_a_positive_finite_number_of_seconds():
    for value in ("0", "-1", "nan", "inf", "soon"):
        assert_one_error_line(run("send", "/queue/q", "x", "--receipt-timeout", value, "--url", NOWHERE), 2)


def test_unpack_refuses_a_frame_over_max_frame_size_after_the_frames_before_it():
    small = Frame("SEND", {"destination": "/q"}, b"ok").encode()
    big = Frame("SEND", {"destination": "/q"}, b"x" * 2000).encode()
    result = run("unpack", "--json", "--max-frame-size", "1k", input=small + big)
    assert assert_one_error_line(result, 1) == "stomper: error: frame of 2000 bytes exceeds --max-frame-size (1 kB)"
    assert result.stdout.count(b"\n") == 1 and b'"ok"' in result.stdout
    assert run("unpack", "--json", "--max-frame-size", "4KiB", input=small + big).returncode == 0
