"""Options shared by several commands, and the one way to open a Connection from them.

For every command that talks to a broker (send, subscribe, repl):

    @click.command()
    @connection_options
    def mycommand(conn_params: ConnectionParams, ...):
        with open_connection(conn_params) as conn:
            ...

`connection_options` adds --url (several for failover; env STOMPER_URL),
--login/--passcode (env STOMPER_LOGIN/STOMPER_PASSCODE), --ask-passcode,
--vhost, --stomp-version, --heart-beat, --connect-timeout and the TLS
options, and hands the command a single `conn_params` argument.
`open_connection(params, on_frame=None)` builds (but does not connect) the
`stomper.connection.Connection`; use it as a context manager to connect.

The connection module is imported only inside `open_connection` and the
--url check, so commands that do not connect never load it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from .errors import add_secret

DEFAULT_URL = "stomp://localhost:61613"
URL_SCHEMES = ("stomp://", "stomp+ssl://")
VERSION_CHOICES = ("1.0", "1.1", "1.2")


def parse_header(text: str) -> tuple[str, str]:
    """'name:value' -> (name, value); the value may itself contain ':'."""
    name, colon, value = text.partition(":")
    if not colon or not name:
        raise click.BadParameter(f"{text!r} is not name:value", param_hint="'-H' / '--header'")
    return name, value


def _headers_callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [parse_header(value) for value in values]


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


# --- connection options ---------------------------------------------------------------------------


class ConnectionParams:
    """Everything needed to open a Connection, as given on the command line (a plain class: no dataclasses import at start-up)."""

    def __init__(
        self, urls: list[str] | None = None, login: str | None = None, passcode: str | None = None, vhost: str | None = None,
        version: str | None = None, heart_beat: tuple[int, int] = (10000, 10000), connect_timeout: float = 10.0,
        ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None, verify: bool = True,
    ) -> None:
        self.urls = urls or [DEFAULT_URL]
        self.login = login
        self.passcode = passcode
        self.vhost = vhost
        self.version = version
        self.heart_beat = heart_beat
        self.connect_timeout = connect_timeout
        self.ca_file = ca_file
        self.cert_file = cert_file
        self.key_file = key_file
        self.verify = verify

    def __repr__(self) -> str:
        shown = {name: value for name, value in vars(self).items() if name != "passcode"}
        return f"ConnectionParams({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def _urls_callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    urls = list(values) or [DEFAULT_URL]
    for url in urls:
        if not url.startswith(URL_SCHEMES):
            raise click.BadParameter(f"{url!r} is not a stomp:// or stomp+ssl:// URL", ctx=ctx, param=param)
        from stomper.connection import parse_url

        try:
            endpoint = parse_url(url)
        except ValueError as error:
            raise click.BadParameter(f"bad URL: {error}", ctx=ctx, param=param) from None
        add_secret(endpoint.passcode, endpoint.login)
    return urls


def _heart_beat_callback(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        send_ms, receive_ms = (int(part) for part in value.split(","))
        if send_ms < 0 or receive_ms < 0:
            raise ValueError
    except ValueError:
        raise click.BadParameter(f"{value!r} is not CX,CY (two non-negative milliseconds)", ctx=ctx, param=param) from None
    return send_ms, receive_ms


_CONNECTION_OPTIONS = [
    click.option(
        "--url", "urls", multiple=True, envvar="STOMPER_URL", callback=_urls_callback, metavar="URL",
        help=f"stomp://[login[:passcode]@]host[:port][/vhost] or stomp+ssl://...; repeat for failover. [env STOMPER_URL; default {DEFAULT_URL}]",
    ),
    click.option("--login", envvar="STOMPER_LOGIN", help="Login. [env STOMPER_LOGIN]"),
    click.option("--passcode", envvar="STOMPER_PASSCODE", help="Passcode (never printed). [env STOMPER_PASSCODE]"),
    click.option("--ask-passcode", is_flag=True, help="Prompt for the passcode without echoing it."),
    click.option("--vhost", help="Virtual host (the host header)."),
    stomp_version_option(None, "Speak only this STOMP version (default: negotiate 1.0-1.2)."),
    click.option("--heart-beat", default="10000,10000", show_default=True, callback=_heart_beat_callback, metavar="CX,CY", help="Heart-beats in ms."),
    click.option(
        "--connect-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, metavar="SECONDS", help="Give up connecting after this."
    ),
    click.option(
        "--ca-file", type=click.Path(exists=True, dir_okay=False), envvar="STOMPER_CA_FILE",
        help="CA certificates to verify the broker (TLS). [env STOMPER_CA_FILE]",
    ),
    click.option("--cert-file", type=click.Path(exists=True, dir_okay=False), help="Client certificate (TLS)."),
    click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Client certificate's key (TLS)."),
    click.option("--insecure", is_flag=True, help="Do not verify the broker's certificate (TLS)."),
]
_CONNECTION_NAMES = (
    "urls", "login", "passcode", "ask_passcode", "vhost", "stomp_version", "heart_beat", "connect_timeout",
    "ca_file", "cert_file", "key_file", "insecure",
)


def connection_options(function: Callable) -> Callable:
    """Decorator: add the connection options and pass them as one `conn_params: ConnectionParams` argument."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in _CONNECTION_NAMES}
        passcode = given["passcode"]
        if given["ask_passcode"]:
            passcode = click.prompt("Passcode", hide_input=True, err=True, default="", show_default=False)
        add_secret(passcode, given["login"])
        kwargs["conn_params"] = ConnectionParams(
            urls=given["urls"], login=given["login"], passcode=passcode, vhost=given["vhost"], version=given["stomp_version"],
            heart_beat=given["heart_beat"], connect_timeout=given["connect_timeout"], ca_file=given["ca_file"],
            cert_file=given["cert_file"], key_file=given["key_file"], verify=not given["insecure"],
        )
        return function(*args, **kwargs)

    for option in reversed(_CONNECTION_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def open_connection(params: ConnectionParams, on_frame: Callable | None = None, reconnect: bool = False):
    """A `stomper.connection.Connection` for `params` (not yet connected: use `with`).

    `on_frame(frame, direction)` sees every frame sent ("out") or received ("in").
    """
    from stomper.connection import Connection

    return Connection(
        params.urls, login=params.login, passcode=params.passcode, vhost=params.vhost, version=params.version,
        heart_beat=params.heart_beat, connect_timeout=params.connect_timeout, ca_file=params.ca_file,
        cert_file=params.cert_file, key_file=params.key_file, verify=params.verify, reconnect=reconnect, on_frame=on_frame,
    )


def frame_logger(verbose: bool) -> Callable | None:
    """An on_frame callback that shows each frame on stderr under --verbose (passcode masked), else None."""
    if not verbose:
        return None
    import sys

    from .errors import mask
    from .render import plain_text

    def log(frame: Any, direction: str) -> None:
        arrow = ">>>" if direction == "out" else "<<<"
        sys.stderr.write(mask(f"{arrow} " + plain_text(frame).rstrip("\n").replace("\n", f"\n{arrow} ")) + "\n")
        sys.stderr.flush()

    return log
