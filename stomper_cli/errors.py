"""Exit codes, the CLI's own errors, and the one mapping of any exception to (exit code, message).

Exit codes:

    0  success
    1  the broker sent ERROR, or input data was malformed
    2  usage error (bad option, unknown command, bad URL...)
    3  could not connect, or the connection was lost
    4  --timeout expired before --count messages arrived

Secrets (the passcode) are registered with `add_secret` as soon as they are
read, and `mask` removes them from every line written to stderr.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_TIMEOUT = 4

MASK = "********"
_secrets: set[str] = set()


def add_secret(secret: str | None, login: str | None = None) -> None:
    """Remember `secret` so that `mask` hides it from every message.

    A passcode equal to its login (guest/guest) is not registered: the login
    is shown on purpose, and hiding every occurrence of it would blank out
    the user name in URLs and in the broker's own messages.
    """
    if secret and secret != login:
        _secrets.add(secret)


def mask(text: str) -> str:
    """`text` with every registered secret replaced by asterisks."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


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
    """Classify the errors of stomper.connection, if that module was ever loaded."""
    connection = sys.modules.get("stomper.connection")
    if connection is None:
        return None
    broker_error = getattr(connection, "BrokerError", ())
    if isinstance(error, broker_error):
        message = getattr(error, "message", None) or str(error).splitlines()[0]
        body = (getattr(error, "body", None) or "").strip()
        reason = body.splitlines()[0][:200] if body else ""
        if reason and reason not in message:
            message = f"{message} ({reason})"  # RabbitMQ says why only in the body
        return EXIT_ERROR, f"broker error: {message}", body or None
    lost = tuple(getattr(connection, name) for name in ("ConnectFailed", "ConnectionLost", "ReceiptTimeout") if hasattr(connection, name))
    if lost and isinstance(error, lost):
        text = str(error)
        kind = "could not connect" if type(error).__name__ == "ConnectFailed" else "connection problem"
        return EXIT_CONNECTION, text if text.startswith(kind) else f"{kind}: {text}", None
    stomp_error = getattr(connection, "StompError", ())
    if isinstance(error, stomp_error):
        return EXIT_CONNECTION, f"connection problem: {error}", None
    return None


def classify(error: BaseException) -> tuple[int, str, str | None]:
    """(exit code, one-line message, detail or None) for any exception."""
    import click

    from stomper.errors import FrameError

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
    if isinstance(error, KeyboardInterrupt | click.Abort):
        return 130, "interrupted", None
    if isinstance(error, OSError):
        return EXIT_ERROR, f"{error.strerror or error}" + (f": {error.filename}" if error.filename else ""), None
    return EXIT_ERROR, f"internal error: {type(error).__name__}: {error} (run with --debug for the traceback)", None
