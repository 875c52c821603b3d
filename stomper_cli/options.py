"""Options shared by several commands, the number types every option uses, and the one way to open a Connection.

For every command that talks to a broker (send, subscribe, repl, request, reply, bench):

    @click.command()
    @connection_options
    def mycommand(conn_params: ConnectionSettings, ...):
        with open_connection(conn_params) as conn:
            ...

`connection_options` adds --url (several for failover; env STOMPER_URL),
--login/--passcode (env STOMPER_LOGIN/STOMPER_PASSCODE), --ask-passcode,
--vhost, --stomp-version, --heart-beat, --connect-timeout, the TLS
options, --connect-header/--client-id, and --profile/--config, which fill
in what the command line and the environment did not give from a profile
of the config file (stomper_cli.profiles). Their values are parsed by the
library (stomper.url, stomper.settings) into one
`stomper.settings.ConnectionSettings`, kept as the command's `ctx.obj` and
handed to the command as `conn_params`.
`open_connection(params=None, on_frame=None)` builds (but does not connect)
the `stomper.connection.Connection`; use it as a context manager to connect.

Numbers: `Seconds(min, max)`, `Milliseconds(min, max)` and `HeartBeat()` are
Click types that refuse NaN, infinity and values outside their range with
exit 2; every numeric option uses one of them (or click.IntRange for counts).

The connection module is imported only inside `open_connection`, and the
config code only when a connecting command runs, so commands that do not
connect never load them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from stomper.settings import (
    CLIENT_ID_HEADER,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_URL,
    MAX_HEART_BEAT,
    MAX_MILLISECONDS,
    MAX_SECONDS,
    MIN_CONNECT_TIMEOUT,
    ConnectionSettings,
    check_connect_headers,
    check_seconds,
    parse_heart_beat,
)
from stomper.url import URL_FORM, parse_url, scheme_names

VERSION_CHOICES = ("1.0", "1.1", "1.2")


def parse_header(text: str, option: str = "'-H' / '--header'") -> tuple[str, str]:
    """'name:value' -> (name, value); the value may itself contain ':'."""
    name, colon, value = text.partition(":")
    if not colon or not name:
        raise click.BadParameter(f"{text!r} is not name:value", param_hint=option)
    return name, value


def _headers_callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [parse_header(value, param.get_error_hint(ctx)) for value in values]


header_option = click.option(
    "-H", "--header", "headers", multiple=True, metavar="NAME:VALUE", callback=_headers_callback, help="Add a header (repeatable)."
)


def stomp_version_option(default: str | None, help: str) -> Callable:
    """--stomp-version with the versions stomper speaks."""
    return click.option("--stomp-version", type=click.Choice(VERSION_CHOICES), default=default, show_default=default is not None, help=help)


def body_options(function: Callable) -> Callable:
    """--body TEXT and --body-file PATH|- (mutually exclusive; checked by `read_body`)."""
    function = click.option("--body-file", type=click.File("rb"), metavar="PATH|-", help="Read the body from a file, or - for stdin.")(function)
    return click.option("--body", metavar="TEXT", help="The body as text (UTF-8).")(function)


def read_body(body: str | None, body_file: Any, default: bytes | None = b"") -> bytes | None:
    """The body from --body or --body-file (a usage error to give both); `default` otherwise."""
    if body is not None and body_file is not None:
        raise click.UsageError("give --body or --body-file, not both")
    if body_file is not None:
        return body_file.read()
    if body is not None:
        return body.encode("utf-8", "surrogateescape")
    return default


# --- numbers -------------------------------------------------------------------------------------


class Seconds(click.ParamType):
    """A number of seconds from `minimum` to `maximum`; NaN, infinity and anything outside are usage errors (exit 2).

    For every option that waits: `type=Seconds(0.1)` is 0.1 s up to MAX_SECONDS (about 24 days, what a timer holds).
    """

    name = "seconds"

    def __init__(self, minimum: float = 0.0, maximum: float = MAX_SECONDS) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return check_seconds(float(value), "it", self.minimum, self.maximum)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds from {self.minimum:.10g} to {self.maximum:.10g}", param, ctx)

    def __repr__(self) -> str:
        return f"Seconds({self.minimum:.10g}, {self.maximum:.10g})"


class Milliseconds(click.ParamType):
    """A whole number of milliseconds from `minimum` to `maximum` (at most MAX_MILLISECONDS, what a timer holds)."""

    name = "milliseconds"

    def __init__(self, minimum: int = 0, maximum: int = MAX_MILLISECONDS) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip()
        if text.isascii() and text.isdigit() and len(text) <= len(str(self.maximum)) and self.minimum <= int(text) <= self.maximum:
            return int(text)
        self.fail(f"{value!r} is not a whole number of milliseconds from {self.minimum} to {self.maximum}", param, ctx)

    def __repr__(self) -> str:
        return f"Milliseconds({self.minimum}, {self.maximum})"


class HeartBeat(click.ParamType):
    """CX,CY: two milliseconds (0 to MAX_HEART_BEAT each), parsed by the library's own `parse_heart_beat`."""

    name = "heart-beat"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        """'CX,CY' from the command line, or [CX, CY] from a profile: both are checked as the same text."""
        text = ",".join(map(str, value)) if isinstance(value, tuple | list) else str(value)
        try:
            return parse_heart_beat(text)
        except ValueError as error:
            self.fail(str(error), param, ctx)


# --- connection options ---------------------------------------------------------------------------

#: What the connection options produce: one checked object, kept on the command's Click context.
ConnectionParams = ConnectionSettings


def _urls_callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Check every URL with the library's parser; a refusal names the URL with its passcode masked."""
    for url in values:
        try:
            parse_url(url)
        except ValueError as error:
            raise click.BadParameter(str(error), ctx=ctx, param=param) from None
    return values or (DEFAULT_URL,)


config_option = click.option(
    "--config", metavar="FILE", envvar="STOMPER_CONFIG",
    help="The config file of the profiles. [env STOMPER_CONFIG; default $XDG_CONFIG_HOME/stomper/config.toml]",
)

_CONNECTION_OPTIONS = [
    click.option(
        "--url", "urls", multiple=True, envvar="STOMPER_URL", callback=_urls_callback, metavar="URL",
        help=f"{URL_FORM}, or stomp+ssl://... for TLS (schemes: {scheme_names()}, any case); "
        f"repeat for failover. [env STOMPER_URL; default {DEFAULT_URL}]",
    ),
    click.option("--login", envvar="STOMPER_LOGIN", help="Login. [env STOMPER_LOGIN]"),
    click.option("--passcode", envvar="STOMPER_PASSCODE", help="Passcode (never printed). [env STOMPER_PASSCODE]"),
    click.option("--ask-passcode", is_flag=True, help="Prompt for the passcode without echoing it."),
    click.option("--vhost", help="Virtual host (the host header)."),
    stomp_version_option(None, "Speak only this STOMP version (default: negotiate 1.0-1.2)."),
    click.option(
        "--heart-beat", type=HeartBeat(), default="10000,10000", show_default=True, metavar="CX,CY",
        help=f"Heart-beats in ms: send every CX, want one every CY; each 0 (off) to {MAX_HEART_BEAT}.",
    ),
    click.option(
        "--connect-timeout", type=Seconds(MIN_CONNECT_TIMEOUT), default=DEFAULT_CONNECT_TIMEOUT, show_default=True, metavar="SECONDS",
        help=f"Give up connecting after this ({MIN_CONNECT_TIMEOUT:g} to {MAX_SECONDS:.10g}).",
    ),
    click.option(
        "--ca-file", type=click.Path(exists=True, dir_okay=False), envvar="STOMPER_CA_FILE",
        help="CA certificates to verify the broker (TLS). [env STOMPER_CA_FILE]",
    ),
    click.option("--cert-file", type=click.Path(exists=True, dir_okay=False), help="Client certificate (TLS)."),
    click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Client certificate's key (TLS)."),
    click.option("--insecure/--verify", default=False,
                 help="Do not verify the broker's certificate (TLS); --verify does, over a profile's insecure = true."),
    click.option(
        "--connect-header", "connect_headers", multiple=True, metavar="NAME:VALUE", callback=_headers_callback,
        help="Add a header to CONNECT (repeatable); not one the connection sets (accept-version, host, login, passcode, heart-beat).",
    ),
    click.option("--client-id", metavar="ID", help="The client-id CONNECT header (durable subscriptions on ActiveMQ)."),
    click.option("--profile", metavar="NAME", envvar="STOMPER_PROFILE",
                 help="Take the connection settings this command line does not give from profile NAME of the config file. "
                      "[env STOMPER_PROFILE; default: the profile named default]"),
    config_option,
]
_CONNECTION_NAMES = (
    "urls", "login", "passcode", "ask_passcode", "vhost", "stomp_version", "heart_beat", "connect_timeout",
    "ca_file", "cert_file", "key_file", "insecure", "connect_headers", "client_id",
)


def _settings_from(given: dict[str, Any]) -> ConnectionSettings:
    """The one ConnectionSettings for the options given (prompting for the passcode if asked); a bad value is a usage error."""
    passcode = given["passcode"]
    if given["ask_passcode"]:
        passcode = click.prompt("Passcode", hide_input=True, err=True, default="", show_default=False)
    try:
        return ConnectionSettings(
            urls=given["urls"], login=given["login"], passcode=passcode, vhost=given["vhost"], version=given["stomp_version"],
            heart_beat=given["heart_beat"], connect_timeout=given["connect_timeout"], ca_file=given["ca_file"],
            cert_file=given["cert_file"], key_file=given["key_file"], verify=not given["insecure"],
            connect_headers=given["connect_headers"], client_id=given["client_id"],
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _check_connect_headers(given: dict[str, Any]) -> None:
    """Refuse the command line's own CONNECT headers before a profile adds any, so a refusal blames the right place."""
    if given["client_id"] is not None and any(name == CLIENT_ID_HEADER for name, _ in given["connect_headers"]):
        raise click.UsageError("--client-id ID is short for --connect-header client-id:ID: give one of them")
    try:
        check_connect_headers(given["connect_headers"], given["client_id"])
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def connection_options(function: Callable) -> Callable:
    """Decorator: add the connection options, build their ConnectionSettings once and keep it as the command's `ctx.obj`.

    The command also receives it as its `conn_params` argument (as Click's
    `pass_obj` would); code below the command finds it with `connection_settings()`.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .profiles import apply_profile  # here, not at the top: only commands that connect read the config file

        ctx = click.get_current_context()
        _check_connect_headers(kwargs)
        apply_profile(ctx, kwargs, kwargs.pop("profile"), kwargs.pop("config"))
        ctx.obj = _settings_from({name: kwargs.pop(name) for name in _CONNECTION_NAMES})
        kwargs["conn_params"] = ctx.obj
        return function(*args, **kwargs)

    for option in reversed(_CONNECTION_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def connection_settings(ctx: click.Context | None = None) -> ConnectionSettings:
    """The ConnectionSettings of the running command (from its Click context)."""
    ctx = ctx or click.get_current_context()
    settings = ctx.find_object(ConnectionSettings)
    if settings is None:
        raise click.UsageError("this command has no connection options", ctx)
    return settings


def open_connection(params: ConnectionSettings | None = None, on_frame: Callable | None = None, reconnect: bool = False, **extra: Any):
    """A `stomper.connection.Connection` for `params` (default: the running command's settings), not yet connected: use `with`.

    `on_frame(frame, direction)` sees every frame sent ("out") or received ("in");
    `extra` are further Connection arguments (max_frame_size=...).
    """
    from stomper.connection import Connection

    params = params or connection_settings()
    return Connection(**params.connection_kwargs(), reconnect=reconnect, on_frame=on_frame, **extra)


def frame_logger(verbose: bool) -> Callable | None:
    """An on_frame callback that shows each frame on stderr under --verbose (passcode masked), else None."""
    if not verbose:
        return None
    import sys

    from .render import plain_text

    def log(frame: Any, direction: str) -> None:
        arrow = ">>>" if direction == "out" else "<<<"
        sys.stderr.write(f"{arrow} " + plain_text(frame).rstrip("\n").replace("\n", f"\n{arrow} ") + "\n")
        sys.stderr.flush()

    return log


# --- limits and waits of the commands that send and receive frames (send, subscribe, unpack, repl) ---
#
# --max-frame-size (a ByteSize: 64MiB, 1k, 1048576) bounds every frame a command
# receives or reads; a frame over it is reported by `failure` or the option's
# own wrapper as "frame of N bytes exceeds --max-frame-size (64 MiB)", exit 1.
# --receipt-timeout bounds every receipt wait. `broker_session` connects and, on
# every way out, waits for the DISCONNECT receipt no longer than `exit_wait`.

import contextlib  # noqa: E402 - this block is kept apart from the rest of the module on purpose
import math  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from stomper.errors import FrameTooLarge, ReceiptTimeout, StompError  # noqa: E402
from stomper.parser import DEFAULT_MAX_FRAME_SIZE  # noqa: E402

from .errors import EXIT_CONNECTION, EXIT_ERROR, CliError, classify, mask  # noqa: E402

DEFAULT_RECEIPT_TIMEOUT = 30.0
#: The longest a command waits for the DISCONNECT receipt once its work is over.
EXIT_DISCONNECT_WAIT = 2.0

_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30,
}
_SHOWN_UNITS = (("GiB", 2**30), ("GB", 10**9), ("MiB", 2**20), ("MB", 10**6), ("KiB", 2**10), ("kB", 10**3))  # largest first


def format_size(size: int) -> str:
    """`size` in the largest unit that divides it exactly ("64 MiB", "1 kB", "1500 bytes")."""
    for unit, factor in _SHOWN_UNITS:
        if size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class ByteSize(click.ParamType):
    """A positive number of bytes: 1048576, 1k (1000), 1KiB (1024), 64MiB, 2GB; units are case-insensitive."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d{1,15})\s*([a-zA-Z]*)\s*", str(value))
        factor = _SIZE_UNITS.get(match.group(2).lower()) if match else None
        if factor is None or int(match.group(1)) == 0:
            self.fail(f"{value!r} is not a size such as 1048576, 512k, 64MiB or 1GB (at least 1 byte)", param, ctx)
        return int(match.group(1)) * factor


def _finite_seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds", ctx=ctx, param=param)
    return value


receipt_timeout_option = click.option(
    "--receipt-timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_RECEIPT_TIMEOUT, show_default=True,
    callback=_finite_seconds, metavar="SECONDS", help="Give up (exit 3) when the broker has not confirmed within this.",
)


def max_frame_size_option(function: Callable) -> Callable:
    """Decorator: --max-frame-size SIZE, passed on as `max_frame_size`; a frame over it fails with the one message that says so."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if isinstance(error, Failure) or too_large(error) is None:
                raise
            raise failure(error) from error

    return click.option(
        "--max-frame-size", type=ByteSize(), default=format_size(DEFAULT_MAX_FRAME_SIZE).replace(" ", ""), show_default=True, metavar="SIZE",
        help="Refuse (exit 1) a frame larger than this: 1048576, 512k, 64MiB...",
    )(wrapper)


def too_large(error: BaseException) -> tuple[int | None, int] | None:
    """(size or None, limit) when `error` or what it came from is a frame over the size limit, else None.

    The parser raises FrameTooLarge; a connection reports it as a lost
    connection, which carries it as its cause or, failing that, in its text.
    """
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, FrameTooLarge):
            return seen.size, seen.limit
        seen = seen.__cause__ or seen.__context__
    found = re.search(r"(?:content-length (\d+)|frame(?: header)?) exceeds the frame size limit of (\d+) bytes", str(error))
    if found is None or isinstance(error, CliError):
        return None
    return (int(found.group(1)) if found.group(1) else None), int(found.group(2))


class Failure(CliError):  # noqa: N818 - reads as what it is
    """The final report of a failure (see `failure`): exit code and message already decided."""

    def __init__(self, exit_code: int, message: str, detail: str | None = None) -> None:
        super().__init__(message, detail)
        self.exit_code = exit_code


def failure(error: BaseException, note: str | None = None, receipt_timeout: float | None = None) -> Failure:
    """`error` as the one line to report, with `note` (e.g. how much was confirmed) after it.

    A frame over --max-frame-size and a receipt that did not come within
    `receipt_timeout` get their own words; everything else is classified
    as anywhere else in stomper.
    """
    oversize = too_large(error)
    if oversize is not None:
        size, limit = oversize
        # A content-length too long to read is known only as "over the limit".
        shown = f"{size} bytes" if size is not None and size > limit else f"more than {limit} bytes"
        code, message, detail = EXIT_ERROR, f"frame of {shown} exceeds --max-frame-size ({format_size(limit)})", None
    elif isinstance(error, ReceiptTimeout) and receipt_timeout is not None:
        code, message, detail = EXIT_CONNECTION, f"no receipt for {receipt_timeout:g} s", None
    else:
        code, message, detail = classify(error)
    return Failure(code, f"{message}; {note}" if note else message, detail)


def plural(count: int, noun: str) -> str:
    """'1 message', '2 messages'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def warn(message: str) -> None:
    """One `stomper: warning:` line on stderr (passcode masked)."""
    sys.stderr.write(mask(f"stomper: warning: {message}") + "\n")
    sys.stderr.flush()


def exit_wait(timeout: float | None) -> float:
    """How long to wait for the DISCONNECT receipt on the way out: short, and never longer than the user's own timeout."""
    return EXIT_DISCONNECT_WAIT if timeout is None else min(EXIT_DISCONNECT_WAIT, timeout)


def end_session(conn: Any, wait: float, done: str | None = "the work was done") -> None:
    """DISCONNECT, waiting at most `wait` s for the receipt.

    Once the command's work is done (and confirmed), a failure here changes
    nothing for the user: it is a warning that says what was `done`. With
    `done` None the failure is raised (the DISCONNECT receipt is then the
    only confirmation there is). With `wait` 0 the user asked not to wait:
    DISCONNECT is sent and nothing is expected back.
    """
    try:
        conn.disconnect(wait)
    except StompError as error:
        if done is None:
            raise
        if wait > 0:
            warn(f"{failure(error, receipt_timeout=wait).message} while disconnecting ({done})")


@contextlib.contextmanager
def broker_session(params: ConnectionParams, max_frame_size: int, wait: float, on_frame: Callable | None = None, **extra: Any) -> Iterator[Any]:
    """A connected Connection; on the way out DISCONNECT waits at most `wait` s for its receipt.

    On an error the DISCONNECT is best effort and the error stands; after
    success a DISCONNECT the caller did not do itself is done by
    `end_session` (a failure there is a warning). `extra` are further
    `open_connection` arguments (reconnect=True, reconnect_timeout=...).
    """
    conn = open_connection(params, on_frame=on_frame, max_frame_size=max_frame_size, **extra)
    conn.connect()
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(StompError, OSError):
            conn.disconnect(wait)
        raise
    end_session(conn, wait)


def refuse_own_headers(headers: list[tuple[str, str]], own: dict[str, str]) -> None:
    """A usage error for a -H header the command sets itself, which would otherwise be silently replaced.

    `own` maps each such header name to what sets it ("--ack", "the DESTINATION argument").
    """
    for name, _ in headers:
        if name in own:
            raise click.UsageError(f"-H {name}:... is not used: the {name} header is set by {own[name]}")


#: How long to keep trying to reconnect after a lost connection, unless --reconnect-timeout says otherwise.
DEFAULT_RECONNECT_TIMEOUT = 60.0


def reconnect_options(what: str) -> Callable:
    """--reconnect and --reconnect-timeout for a command that rides through a lost connection; `what` it does again after one."""

    def decorate(function: Callable) -> Callable:
        function = click.option(
            "--reconnect-timeout", type=Seconds(0.1), default=DEFAULT_RECONNECT_TIMEOUT, show_default=True, metavar="SECONDS",
            help="With several --url or --reconnect: give up (exit 3) when no broker answered within this after a loss.",
        )(function)
        return click.option(
            "--reconnect", is_flag=True,
            help=f"On a lost connection, connect again (to the next --url, with backoff; on by default with several --url) and {what}.",
        )(function)

    return decorate
