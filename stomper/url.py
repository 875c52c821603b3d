"""Broker URLs: the one place that knows which schemes exist and how to show a URL safely.

Both the library and the command line parse URLs here, so they never
disagree on what is accepted, and every refusal shows the URL with its
passcode masked.

The schemes (case-insensitive) are the rows of `SCHEMES`:

    scheme      transport  TLS  default port
    stomp       tcp        no   61613
    tcp         tcp        no   61613   (alias of stomp)
    stomp+ssl   tcp        yes  61614
    stomp+tls   tcp        yes  61614   (alias of stomp+ssl)
    stomps      tcp        yes  61614   (alias of stomp+ssl)
    ssl         tcp        yes  61614   (alias of stomp+ssl)
    ws          ws         no   80      (STOMP over WebSocket)
    wss         ws         yes  443     (STOMP over WebSocket over TLS)

The first row for a (transport, TLS) pair is the name a URL is shown with.
A new transport is a new row (and its class in stomper.transport), nothing else.

What follows host[:port] depends on the transport. For tcp it is the
virtual host (`stomp://h/vh`, the `host` header of CONNECT). For ws it is
the HTTP path of the WebSocket endpoint (`ws://h:15674/ws`, in `path`,
"/" when none is given); a WebSocket connection's vhost comes from the
`vhost` argument (`--vhost`) only, since the path already names the endpoint.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

#: What replaces a passcode wherever one would be shown: URLs, the passcode header, settings.
MASK = "***"

DEFAULT_PORT = 61613
DEFAULT_TLS_PORT = 61614
DEFAULT_WS_PORT = 80
DEFAULT_WSS_PORT = 443
MAX_PORT = 65535


class Scheme(NamedTuple):
    """What a URL scheme means: the byte stream to open, whether it is wrapped in TLS, the port when none is given."""

    transport: str
    tls: bool
    default_port: int


SCHEMES: dict[str, Scheme] = {
    "stomp": Scheme("tcp", False, DEFAULT_PORT),
    "tcp": Scheme("tcp", False, DEFAULT_PORT),
    "stomp+ssl": Scheme("tcp", True, DEFAULT_TLS_PORT),
    "stomp+tls": Scheme("tcp", True, DEFAULT_TLS_PORT),
    "stomps": Scheme("tcp", True, DEFAULT_TLS_PORT),
    "ssl": Scheme("tcp", True, DEFAULT_TLS_PORT),
    "ws": Scheme("ws", False, DEFAULT_WS_PORT),
    "wss": Scheme("ws", True, DEFAULT_WSS_PORT),
}

#: Transports whose URL path is an HTTP path (kept in `Endpoint.path`) rather than the vhost.
PATH_TRANSPORTS = frozenset({"ws"})

URL_FORM = "stomp://[login[:passcode]@]host[:port][/vhost]"


def scheme_names() -> str:
    """The accepted schemes for messages and help: 'stomp://, tcp://, stomp+ssl://, ...'."""
    return ", ".join(f"{name}://" for name in SCHEMES)


def _shown_scheme(transport: str, tls: bool) -> str:
    """The first scheme of the table for this kind of endpoint (aliases are shown by their main name)."""
    return next(name for name, scheme in SCHEMES.items() if scheme.transport == transport and scheme.tls == tls)


class Endpoint(NamedTuple):
    """One broker address; `str()` and `repr()` show the passcode masked.

    `vhost` is the path of a tcp URL; `path` is the HTTP path of a ws URL
    (never both: see the module docstring).
    """

    tls: bool
    host: str
    port: int
    login: str | None = None
    passcode: str | None = None
    vhost: str | None = None
    transport: str = "tcp"
    path: str | None = None

    def __str__(self) -> str:
        user = ""
        if self.login is not None or self.passcode is not None:
            user = (self.login or "") + (f":{MASK}" if self.passcode is not None else "") + "@"
        tail = self.path or ""
        if self.vhost:
            tail = "/" + self.vhost.replace("%", "%25").replace("/", "%2F")
        return f"{_shown_scheme(self.transport, self.tls)}://{user}{self.netloc}{tail}"

    @property
    def netloc(self) -> str:
        """host:port as a URL (and an HTTP Host header) writes it: an IPv6 address in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __repr__(self) -> str:
        passcode = MASK if self.passcode is not None else None
        return (f"Endpoint(tls={self.tls!r}, host={self.host!r}, port={self.port!r}, login={self.login!r}, "
                f"passcode={passcode!r}, vhost={self.vhost!r}, transport={self.transport!r}, path={self.path!r})")


def parse_url(url: str) -> Endpoint:
    """`stomp://[login[:passcode]@]host[:port][/vhost]` (or any scheme of `SCHEMES`) as an Endpoint.

    Login, passcode and vhost are percent-decoded (`/%2F` is the vhost "/").
    For ws:// and wss:// the path is the WebSocket endpoint's HTTP path, kept
    as written ("/" when absent).
    The port defaults to the scheme's. Raises ValueError, whose message
    shows the URL with its passcode masked.
    """
    if not isinstance(url, str):
        raise ValueError(f"a broker URL must be text, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - urlsplit checks brackets and the netloc's characters lazily
    except ValueError as error:
        raise _refused(url, "not a URL" if "netloc" in str(error) else str(error).lower()) from None
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None or not url[len(parts.scheme) + 1:].startswith("//"):
        raise _refused(url, f"expected {URL_FORM}; the scheme is one of {scheme_names()}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise _refused(url, "no query or fragment allowed")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= MAX_PORT:
        raise _refused(url, f"the port must be a number from 1 to {MAX_PORT}")
    if not parts.hostname:
        raise _refused(url, "no host")
    login = unquote(parts.username) if parts.username is not None else None
    passcode = unquote(parts.password) if parts.password is not None else None
    endpoint = Endpoint(scheme.tls, parts.hostname, port or scheme.default_port, login, passcode, transport=scheme.transport)
    if scheme.transport in PATH_TRANSPORTS:
        return endpoint._replace(path=parts.path or "/")
    vhost = parts.path[1:] if parts.path.startswith("/") else parts.path
    return endpoint._replace(vhost=unquote(vhost) or None)


def _refused(url: str, why: str) -> ValueError:
    return ValueError(f"bad broker URL {mask_url(url)!r}: {why}")


#: A scheme with its slashes (`stomp://`, `stomp:/`); without slashes `user:pass@host` is not taken for a scheme.
_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:/+")


def mask_url(url: str) -> str:
    """`url` with the passcode of its userinfo replaced by MASK, whether or not the URL is valid.

    Made for refused URLs: everything from the first ':' of the userinfo to
    the last '@' is the passcode, so a passcode holding '@', '/' or ':' is
    never shown in part. A URL without a passcode is returned unchanged.
    """
    prefix = _SCHEME_PREFIX.match(url)
    start = prefix.end() if prefix else 0
    userinfo, at, rest = url[start:].rpartition("@")
    login, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return url
    return f"{url[:start]}{login}:{MASK}@{rest}"


#: A URL-like word with an '@' in free text: a scheme with slashes and what follows up to white space.
#: A userinfo never starts with '[', so the URL_FORM of help and messages is left as it is.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:/+(?![/\[])\S*@\S*")


def mask_urls_in(text: str) -> str:
    """`text` with the passcode of every URL in it masked (for messages that quote what the user typed).

    Only the userinfo of URL-like words changes; every other character of
    the text is kept, so a passcode that is also an ordinary word never
    hides that word elsewhere.
    """
    return _URL_IN_TEXT.sub(lambda found: mask_url(found.group()), text)
