"""Broker URLs: the one place that knows which schemes exist and how to show a URL safely.

Both the library and the command line parse URLs here, so they never
disagree on what is accepted, and every refusal shows the URL with its
passcode masked.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urlsplit

DEFAULT_PORT = 61613
DEFAULT_TLS_PORT = 61614
_SCHEMES = {"stomp": False, "tcp": False, "stomp+ssl": True, "stomp+tls": True, "stomps": True, "ssl": True}


class Endpoint(NamedTuple):
    """One broker address; `str()` gives the URL with the passcode masked."""

    tls: bool
    host: str
    port: int
    login: str | None = None
    passcode: str | None = None
    vhost: str | None = None

    def __str__(self) -> str:
        user = ""
        if self.login is not None:
            user = self.login + (":***" if self.passcode is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        vhost = "/" + self.vhost.replace("%", "%25").replace("/", "%2F") if self.vhost else ""
        return f"{'stomp+ssl' if self.tls else 'stomp'}://{user}{host}:{self.port}{vhost}"


def parse_url(url: str) -> Endpoint:
    """`stomp://[login[:passcode]@]host[:port][/vhost]` (or `stomp+ssl://`) as an Endpoint.

    Login, passcode and vhost are percent-decoded (`/%2F` is the vhost "/").
    The default port is 61613, or 61614 for stomp+ssl. Raises ValueError.
    """
    if "://" not in url:
        raise ValueError(f"bad broker URL {url!r}: expected stomp://[login[:passcode]@]host[:port][/vhost]")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"bad broker URL {_mask(url)!r}: scheme must be stomp:// or stomp+ssl://, not {parts.scheme}://")
    if parts.query or parts.fragment:
        raise ValueError(f"bad broker URL {_mask(url)!r}: no query or fragment allowed")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad broker URL {_mask(url)!r}: the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"bad broker URL {_mask(url)!r}: no host")
    tls = _SCHEMES[scheme]
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    login = unquote(parts.username) if parts.username is not None else None
    passcode = unquote(parts.password) if parts.password is not None else None
    return Endpoint(tls, parts.hostname, port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT), login, passcode, unquote(path) or None)


def _mask(url: str) -> str:
    """The URL with any passcode replaced by ***, for error messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"
