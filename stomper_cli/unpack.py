"""`stomper unpack`: show every frame of a raw STOMP byte stream."""

from __future__ import annotations

from typing import IO, Any

import click

from stomper import Frame, FrameError, FrameParser
from stomper.rules import version_problem

from .app import get_settings
from .errors import InputError
from .options import max_frame_size_option, stomp_version_option
from .render import FrameWriter, max_body_option, template_option

CHUNK = 64 * 1024


def read_chunks(stream: IO[bytes]) -> Any:
    """Chunks as soon as they arrive (read1), so a live pipe is shown frame by frame."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(CHUNK):
        yield chunk


EXAMPLES = """Examples:

\b
  stomper pack SEND -H destination:/q --body hi | stomper unpack
  stomper unpack --json capture.bin | jq .headers
  stomper subscribe /queue/a --raw | stomper unpack
  stomper unpack capture.bin --template '{count} {destination} {body_length}\\n'"""


@click.command(epilog=EXAMPLES)
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--json", "as_json", is_flag=True,
              help='JSON Lines: {"command", "headers", "body" or "body_base64"} per frame; "repeated_headers" when a name repeats.')
@click.option("--strict", is_flag=True, help="Also fail on what the STOMP version forbids or requires (e.g. SEND without destination).")
@stomp_version_option("1.2", "Parse with this version's rules (escaping, CRLF).")
@click.option("--show-passcode", is_flag=True, help="Do not mask passcode headers (e.g. to re-pack a captured CONNECT).")
@max_body_option
@template_option
@max_frame_size_option
def unpack(file: IO[bytes], as_json: bool, strict: bool, stomp_version: str, show_passcode: bool, max_body: int | None,
           template: Any, max_frame_size: int) -> None:
    """Show every frame of a raw STOMP stream read from FILE (default stdin).

    On a terminal: Rich rendering. Into a pipe: plain text, or JSON Lines with
    --json (which `stomper pack --json` turns back into the same frames).
    Control characters are shown escaped; bodies are shown as sent, up to
    --max-body bytes. Frames before a malformed one are shown; the error and its byte
    offset go to stderr and the exit code is 1.
    """
    if as_json and template is not None:
        raise click.UsageError("give --json or --template, not both")
    writer = FrameWriter("json" if as_json else "pretty", get_settings().color, show_secrets=show_passcode, max_body=max_body,
                         template=template)
    parser = FrameParser(stomp_version, max_frame_size=max_frame_size)
    count = 0

    def emit(frames: list[Frame]) -> None:
        nonlocal count
        for frame in frames:
            count += 1
            problem = version_problem(frame, stomp_version) if strict else None
            if problem:
                raise InputError(f"frame {count}: {problem}")
            writer.write(frame)

    try:
        for chunk in read_chunks(file):
            frames = parser.feed(chunk)
            emit(frames)
        parser.close()
    except FrameError as error:
        emit(getattr(error, "frames", []))
        raise InputError(f"malformed frame: {error.reason} (at byte {error.offset})") from None
