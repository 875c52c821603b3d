"""What differs between STOMP 1.0, 1.1 and 1.2, stated once.

Every rule that depends on the version (which escapes exist, whether a
line may end in CRLF, which commands and ack modes exist, how an ACK names
its message, which headers a frame needs, whether heart-beats and the
`host` header exist) is a field of the version's `Spec` record. The rest of
stomper looks the answer up here instead of comparing version strings, so
a fact such as "1.0 has no NACK" has exactly one home.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from .errors import FrameError

#: The frames whose headers are never escaped: they are exchanged before a version is agreed.
UNESCAPED_COMMANDS = frozenset({"CONNECT", "CONNECTED"})


class Spec(NamedTuple):
    """The rules of one STOMP version."""

    #: "1.0", "1.1" or "1.2".
    name: str
    #: Header escapes for writing: character -> escape sequence ({} when the version has none).
    escapes: Mapping[str, str]
    #: Whether a frame line may end in CRLF (and a carriage return be escaped as \\r).
    crlf: bool
    #: Client and server commands the version does not define.
    missing_commands: frozenset[str]
    #: The headers ACK and NACK name a message with, in order (1.2: `id`, the MESSAGE's `ack`).
    ack_headers: tuple[str, ...]
    #: The MESSAGE header whose value an ACK's first header carries.
    ack_source: str
    #: The SUBSCRIBE ack modes the version defines.
    ack_modes: tuple[str, ...]
    #: Headers each command requires (commands not listed require none).
    required_headers: Mapping[str, tuple[str, ...]]
    #: Whether CONNECT negotiates: accept-version, host and heart-beat exist, subscriptions need ids.
    negotiates: bool

    @property
    def escapes_headers(self) -> bool:
        """Whether header names and values are escaped in this version."""
        return bool(self.escapes)

    @property
    def unescapes(self) -> dict[str, str]:
        """For reading: the letter after a backslash -> the character it stands for."""
        return {sequence[1:]: character for character, sequence in self.escapes.items()}

    def ack_id(self, message_headers: Mapping[str, str]) -> str | None:
        """What an ACK or NACK of a MESSAGE with these headers names it by."""
        return message_headers.get(self.ack_source) or message_headers.get("message-id")

    @property
    def ack_header(self) -> str:
        """The header that names the message in an ACK or NACK."""
        return self.ack_headers[0]

    @property
    def has_heart_beats(self) -> bool:
        return self.negotiates

    @property
    def has_host_header(self) -> bool:
        return self.negotiates

    @property
    def needs_subscription_id(self) -> bool:
        """1.1 and later identify subscriptions by id only; 1.0 may unsubscribe by destination."""
        return self.negotiates


def _required(ack: tuple[str, ...], negotiates: bool) -> Mapping[str, tuple[str, ...]]:
    ids = ("id",) if negotiates else ()
    connect = ("accept-version", "host") if negotiates else ()
    transaction = ("transaction",)
    return MappingProxyType({
        "CONNECT": connect,
        "STOMP": connect,
        "CONNECTED": ("version",) if negotiates else (),
        "SEND": ("destination",),
        "SUBSCRIBE": ("destination", *ids),
        "UNSUBSCRIBE": ids,
        "ACK": ack,
        "NACK": ack,
        "BEGIN": transaction,
        "COMMIT": transaction,
        "ABORT": transaction,
        "MESSAGE": ("destination", "message-id", *(("subscription",) if negotiates else ())),
        "RECEIPT": ("receipt-id",),
    })


_ESCAPES_11 = MappingProxyType({"\\": "\\\\", "\n": "\\n", ":": "\\c"})
_ESCAPES_12 = MappingProxyType({**_ESCAPES_11, "\r": "\\r"})
_ACK_MODES_10 = ("auto", "client")
_ACK_MODES_11 = (*_ACK_MODES_10, "client-individual")

STOMP_10 = Spec(
    name="1.0",
    escapes=MappingProxyType({}),
    crlf=False,
    missing_commands=frozenset({"STOMP", "NACK"}),
    ack_headers=("message-id",),
    ack_source="message-id",
    ack_modes=_ACK_MODES_10,
    required_headers=_required(("message-id",), negotiates=False),
    negotiates=False,
)
STOMP_11 = Spec(
    name="1.1",
    escapes=_ESCAPES_11,
    crlf=False,
    missing_commands=frozenset(),
    ack_headers=("message-id", "subscription"),
    ack_source="message-id",
    ack_modes=_ACK_MODES_11,
    required_headers=_required(("message-id", "subscription"), negotiates=True),
    negotiates=True,
)
#: 1.2 differs from 1.1 in CRLF lines, the \\r escape and ACK by the MESSAGE's `ack` header.
STOMP_12 = STOMP_11._replace(
    name="1.2",
    escapes=_ESCAPES_12,
    crlf=True,
    ack_headers=("id",),
    ack_source="ack",
    required_headers=_required(("id",), negotiates=True),
)

#: Every version stomper speaks, oldest first.
SPECS: Mapping[str, Spec] = MappingProxyType({spec.name: spec for spec in (STOMP_10, STOMP_11, STOMP_12)})
VERSIONS = tuple(SPECS)
DEFAULT_VERSION = STOMP_12.name
#: Every ack mode any version defines (the newest version has them all).
ACK_MODES = STOMP_12.ack_modes


def spec(version: str) -> Spec:
    """The rules of `version`; FrameError for a version stomper does not speak."""
    try:
        return SPECS[version]
    except (KeyError, TypeError):
        raise FrameError(f"unknown STOMP version {version!r}: expected one of {', '.join(VERSIONS)}") from None


def check_ack_mode(ack: str, version: str) -> None:
    """Refuse an ack mode `version` does not define (1.0 has no client-individual)."""
    if ack not in spec(version).ack_modes:
        raise FrameError(f"ack mode {ack!r} does not exist in STOMP {version}")


def individual_ack_mode(version: str) -> str:
    """client-individual where `version` has it, else client (1.0), whose ACK also settles every older message."""
    return "client-individual" if "client-individual" in spec(version).ack_modes else "client"


def check_command(command: str, version: str) -> None:
    """Refuse a command `version` does not define (1.0 has no NACK and no STOMP)."""
    if command in spec(version).missing_commands:
        raise FrameError(f"STOMP {version} has no {command} command")
