"""Exit codes, the CLI's own errors, and the one mapping of any exception to (exit code, message).

Exit codes:

    0  success
    1  the broker sent ERROR, or input data was malformed
    2  usage error (bad option, unknown command, bad URL...)
    3  could not connect, or the connection was lost
    4  --timeout expired before --count messages arrived

The passcode is masked where it is placed, never by searching messages for
it: URLs show it as MASK (stomper.url), frame dumps mask the passcode
header (render.py), and the settings never print it. `mask` only masks the
userinfo of URLs quoted in a message (Click quotes what the user typed).
"""

from __future__ import annotations

from collections.abc import Iterable

from stomper.errors import BrokerError, ConnectFailed, FrameError, StompError
from stomper.url import MASK as MASK  # the one mask string, for render.py and the REPL
from stomper.url import mask_urls_in

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_TIMEOUT = 4
#: As a shell reports a process ended by SIGINT.
EXIT_INTERRUPTED = 130


def mask(text: str) -> str:
    """`text` with the passcode of every URL in it replaced by MASK; every other word is kept as it is."""
    return mask_urls_in(text)


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a mistyped `word` (for "did you mean ...?"), or None when none is close.

    difflib is loaded here, on a typo, rather than at every start-up.
    """
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return close[0] if close else None


class Interrupted(Exception):  # noqa: N818 - reads as what happened
    """Ctrl-C: exit 130 with one line, and no blank line before it."""


class CliError(Exception):
    """An expected failure: one line for stderr, an exit code, optional detail for --verbose."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InputError(CliError):
    """Input data (a frame stream, a JSON line, a file) is malformed: exit 1."""


class ConnectionProblem(CliError):  # noqa: N818 - reads as a sentence in callers: raise ConnectionProblem(...)
    """Could not connect or lost the connection: exit 3."""

    exit_code = EXIT_CONNECTION


class TimeoutExpired(CliError):  # noqa: N818 - same

    """--timeout expired before --count messages arrived: exit 4."""

    exit_code = EXIT_TIMEOUT


def _connection_error(error: BaseException) -> tuple[int, str, str | None] | None:
    """Classify the errors of stomper.connection (defined in stomper.errors, so telling them apart loads no connection code)."""
    if isinstance(error, BrokerError):
        message = error.message or str(error).splitlines()[0]
        body = (error.body or "").strip()
        reason = body.splitlines()[0][:200] if body else ""
        if reason and reason not in message:
            message = f"{message} ({reason})"  # RabbitMQ says why only in the body
        return EXIT_ERROR, f"broker error: {message}", body or None
    if isinstance(error, StompError):
        text = str(error)
        kind = "could not connect" if isinstance(error, ConnectFailed) else "connection problem"
        return EXIT_CONNECTION, text if text.startswith(kind) else f"{kind}: {text}", None
    return None


def classify(error: BaseException) -> tuple[int, str, str | None]:
    """(exit code, one-line message, detail or None) for any exception."""
    import click

    if isinstance(error, CliError):
        return error.exit_code, error.message, error.detail
    if isinstance(error, click.UsageError):
        hint = ""
        if error.ctx is not None:
            hint = f" (see '{error.ctx.command_path} --help')"
        return EXIT_USAGE, f"{error.format_message()}{hint}", None
    if isinstance(error, click.ClickException):
        return EXIT_ERROR, error.format_message(), None
    if isinstance(error, FrameError):
        return EXIT_ERROR, f"bad frame: {error}", None
    found = _connection_error(error)
    if found is not None:
        return found
    if isinstance(error, KeyboardInterrupt | click.Abort | Interrupted):
        return EXIT_INTERRUPTED, "interrupted", None
    if isinstance(error, OSError):
        return EXIT_ERROR, f"{error.strerror or error}" + (f": {error.filename}" if error.filename else ""), None
    return EXIT_ERROR, f"internal error: {type(error).__name__}: {error} (run with --debug for the traceback)", None
