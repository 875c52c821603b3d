"""What each STOMP version requires of a frame beyond its syntax.

The parser accepts any well-formed frame; these rules say whether a frame
also means something in a given version (a SEND needs a destination, 1.1
and later need subscription ids, only SEND, MESSAGE and ERROR carry a body).
`stomper unpack --strict` and the REPL's `frame` command check with them.
"""

from __future__ import annotations

from .frame import MISSING_IN_VERSION, Frame

_ACK_HEADERS = {"1.0": ("message-id",), "1.1": ("message-id", "subscription"), "1.2": ("id",)}
_CONNECT_HEADERS = {"1.0": (), "1.1": ("accept-version", "host"), "1.2": ("accept-version", "host")}
_SINCE_11 = {"1.0": (), "1.1": ("id",), "1.2": ("id",)}
#: Headers each version requires, per command.
REQUIRED_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "CONNECT": _CONNECT_HEADERS,
    "STOMP": _CONNECT_HEADERS,
    "CONNECTED": {"1.0": (), "1.1": ("version",), "1.2": ("version",)},
    "SEND": {version: ("destination",) for version in _ACK_HEADERS},
    "SUBSCRIBE": {version: ("destination", *ids) for version, ids in _SINCE_11.items()},
    "UNSUBSCRIBE": _SINCE_11,
    "ACK": _ACK_HEADERS,
    "NACK": _ACK_HEADERS,
    "BEGIN": {version: ("transaction",) for version in _ACK_HEADERS},
    "COMMIT": {version: ("transaction",) for version in _ACK_HEADERS},
    "ABORT": {version: ("transaction",) for version in _ACK_HEADERS},
    "MESSAGE": {version: ("destination", "message-id", *(("subscription",) if version != "1.0" else ())) for version in _ACK_HEADERS},
    "RECEIPT": {version: ("receipt-id",) for version in _ACK_HEADERS},
}
#: Only these frames may carry a body.
BODY_COMMANDS = frozenset({"SEND", "MESSAGE", "ERROR"})


def version_problem(frame: Frame, version: str) -> str | None:
    """What STOMP `version` forbids or requires that `frame` gets wrong, or None."""
    command = frame.command
    if command in MISSING_IN_VERSION[version]:
        return f"STOMP {version} has no {command} command"
    missing = [name for name in REQUIRED_HEADERS.get(command, {}).get(version, ()) if name not in frame.headers]
    if command == "UNSUBSCRIBE" and version == "1.0" and not ({"id", "destination"} & frame.headers.keys()):
        missing = ["id or destination"]
    if missing:
        return f"{command} needs {', '.join(missing)} in STOMP {version}"
    if frame.body and command not in BODY_COMMANDS:
        return f"{command} frames may not have a body"
    return None
