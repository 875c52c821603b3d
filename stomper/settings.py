"""Connection settings, parsed and checked once: the broker URLs, credentials, heart-beats, timeouts and TLS files.

The command line builds one `ConnectionSettings` from its options and opens
every connection from it (`Connection(**settings.connection_kwargs())`), so
there is one parser of URLs (stomper.url) and of heart-beats (here), and a
value that a socket or a timer could not hold is refused before anything
connects. Every check raises ValueError with a message that never holds the
passcode.

Ranges (the longest wait a timer holds, poll() included, is 2**31 - 1 ms, about 24.8 days):

    heart-beat        two whole milliseconds, each 0 (off) to 1073741823 (about 12.4 days:
                      the broker is declared gone after twice its interval, and that wait must fit too)
    connect timeout   0.1 to 2147483 seconds

CONNECT headers: `connect_headers` adds headers to the CONNECT frame (a
`client-id` for durable subscriptions, broker extensions); `client_id` is
the shorthand for the `client-id` one. The headers the connection sets
itself (`CONNECTION_SET_HEADERS`) are refused, and so is a name given twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .frame import VERSIONS
from .session import MAX_HEART_BEAT_MS, MAX_TIMEOUT, MAX_TIMER_MS
from .url import Endpoint, parse_url

DEFAULT_URL = "stomp://localhost:61613"
DEFAULT_HEART_BEAT = (10000, 10000)
DEFAULT_CONNECT_TIMEOUT = 10.0
#: The limits are the session's own, so that what the options accept the connection takes.
MAX_MILLISECONDS = MAX_TIMER_MS
MAX_SECONDS = float(MAX_TIMEOUT)
MAX_HEART_BEAT = MAX_HEART_BEAT_MS
MIN_CONNECT_TIMEOUT = 0.1
#: CONNECT headers the connection writes itself, and the setting each comes from.
CONNECTION_SET_HEADERS = {"accept-version": "version", "host": "vhost", "login": "login", "passcode": "passcode", "heart-beat": "heart_beat"}
CLIENT_ID_HEADER = "client-id"


def check_milliseconds(value: object, what: str, maximum: int = MAX_MILLISECONDS) -> int:
    """`value` as whole milliseconds from 0 to `maximum`, or ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValueError(f"{what} must be a whole number of milliseconds from 0 to {maximum}, not {value!r}")
    return value


def check_seconds(value: object, what: str, minimum: float = 0.0, maximum: float = MAX_SECONDS) -> float:
    """`value` as a finite number of seconds from `minimum` to `maximum` (NaN and infinity refused), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not minimum <= value <= maximum:
        raise ValueError(f"{what} must be a number of seconds from {minimum:.10g} to {maximum:.10g}, not {value!r}")
    return float(value)


def parse_heart_beat(text: str) -> tuple[int, int]:
    """'CX,CY' (milliseconds the client sends every, and wants the broker to send every; 0 is off) as (CX, CY).

    Each must be a whole number from 0 to MAX_HEART_BEAT; anything else
    (NaN, infinity, negatives, fractions, huge values) is a ValueError.
    """
    parts = text.split(",")
    shown = text if len(text) <= 40 else text[:40] + "..."
    form = f"heart-beat {shown!r} must be CX,CY: two whole milliseconds from 0 to {MAX_HEART_BEAT}"
    if len(parts) != 2:
        raise ValueError(form)
    values = []
    for part in parts:
        part = part.strip()
        if not (part.isascii() and part.isdigit()) or len(part) > len(str(MAX_HEART_BEAT)) or int(part) > MAX_HEART_BEAT:
            raise ValueError(form)
        values.append(int(part))
    return values[0], values[1]


#: What a CONNECT header cannot hold: CONNECT frames are never escaped, so these would end or split the header.
_UNSAFE_IN_CONNECT = ("\n", "\r", "\0")


def check_connect_headers(headers: object, client_id: str | None = None) -> tuple[tuple[str, str], ...]:
    """`headers` (a mapping or NAME, VALUE pairs) as a tuple of pairs, or ValueError saying which one cannot be sent.

    Refused: a header the connection sets itself, a name given twice (the
    `client_id` counts as `client-id`), and line breaks or NULs, which an
    unescaped CONNECT frame cannot carry.
    """
    pairs = tuple(headers.items()) if isinstance(headers, dict) else tuple(tuple(pair) for pair in headers)  # type: ignore[attr-defined]
    seen = {CLIENT_ID_HEADER} if client_id is not None else set()
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
            raise ValueError(f"a connect header must be a (name, value) pair of text, not {pair!r}")
        name, value = pair
        if not name or ":" in name or any(char in name + value for char in _UNSAFE_IN_CONNECT):
            raise ValueError(f"connect header {name!r} cannot be sent: a name is not empty and has no ':', "
                             "and neither name nor value holds a line break or NUL")
        if name.lower() in CONNECTION_SET_HEADERS:
            raise ValueError(f"connect header {name!r} is set by the connection itself (from its {CONNECTION_SET_HEADERS[name.lower()]} setting)")
        if name in seen:
            twice = " (the client id is one too)" if name == CLIENT_ID_HEADER and client_id is not None else ""
            raise ValueError(f"connect header {name!r} is given twice{twice}")
        seen.add(name)
    return pairs


def _optional_text(value: object, what: str) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{what} must be text or None, not {type(value).__name__}")


@dataclass(frozen=True)
class ConnectionSettings:
    """How to connect, checked on creation; `repr()` never shows the passcode.

    `urls` may be one URL or several (tried in order for failover); their
    parsed forms are in `endpoints`. `login`, `passcode` and `vhost`, when
    given, win over what the URLs hold. `heart_beat` may be given as the
    text 'CX,CY'. `version` pins one STOMP version (None negotiates).
    `connect_headers` and `client_id` go on the CONNECT frame.
    """

    urls: tuple[str, ...] = field(default=(DEFAULT_URL,), repr=False)
    login: str | None = None
    passcode: str | None = field(default=None, repr=False)
    vhost: str | None = None
    version: str | None = None
    heart_beat: tuple[int, int] = DEFAULT_HEART_BEAT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    connect_headers: tuple[tuple[str, str], ...] = ()
    client_id: str | None = None
    endpoints: tuple[Endpoint, ...] = field(init=False)

    def __post_init__(self) -> None:
        urls = (DEFAULT_URL,) if self.urls is None else (self.urls,) if isinstance(self.urls, str) else tuple(self.urls)
        if not urls:
            raise ValueError("no broker URL given")
        self._set("urls", urls)
        self._set("endpoints", tuple(parse_url(url) for url in urls))
        for name in ("login", "passcode", "vhost", "ca_file", "cert_file", "key_file", "client_id"):
            _optional_text(getattr(self, name), name)
        self._set("connect_headers", check_connect_headers(self.connect_headers, self.client_id))
        if self.version is not None and self.version not in VERSIONS:
            raise ValueError(f"unknown STOMP version {self.version!r}: expected one of {', '.join(VERSIONS)}")
        heart_beat = parse_heart_beat(self.heart_beat) if isinstance(self.heart_beat, str) else self.heart_beat
        if not isinstance(heart_beat, tuple | list) or len(heart_beat) != 2:
            raise ValueError(f"heart-beat must be two milliseconds (CX, CY), not {heart_beat!r}")
        self._set("heart_beat", tuple(check_milliseconds(value, "each heart-beat", MAX_HEART_BEAT) for value in heart_beat))
        self._set("connect_timeout", check_seconds(self.connect_timeout, "the connect timeout", MIN_CONNECT_TIMEOUT))
        if not isinstance(self.verify, bool):
            raise ValueError(f"verify must be True or False, not {self.verify!r}")

    def _set(self, name: str, value: object) -> None:
        """Store a normalised value on the frozen instance (only while checking it in __post_init__)."""
        object.__setattr__(self, name, value)

    def connection_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of `stomper.connection.Connection` for these settings (the passcode included).

        `connect_headers` (the client id first) is there only when some were given.
        """
        kwargs: dict[str, Any] = {
            "urls": list(self.urls), "login": self.login, "passcode": self.passcode, "vhost": self.vhost, "version": self.version,
            "heart_beat": self.heart_beat, "connect_timeout": self.connect_timeout, "ca_file": self.ca_file,
            "cert_file": self.cert_file, "key_file": self.key_file, "verify": self.verify,
        }
        headers = self.all_connect_headers
        if headers:
            kwargs["connect_headers"] = dict(headers)
        return kwargs

    @property
    def all_connect_headers(self) -> tuple[tuple[str, str], ...]:
        """The extra CONNECT headers: `client-id` (from `client_id`) first, then `connect_headers`."""
        own = ((CLIENT_ID_HEADER, self.client_id),) if self.client_id is not None else ()
        return own + self.connect_headers
