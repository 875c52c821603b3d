"""What each STOMP version requires of a frame beyond its syntax.

The parser accepts any well-formed frame; these rules say whether a frame
also means something in a given version (a SEND needs a destination, 1.1
and later need subscription ids, only SEND, MESSAGE and ERROR carry a body).
`stomper unpack --strict` and the REPL's `frame` command check with them.
"""

from __future__ import annotations

from .frame import Frame
from .versions import SPECS, spec

#: Headers each version requires, per command: REQUIRED_HEADERS[command][version].
REQUIRED_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    command: {name: version.required_headers[command] for name, version in SPECS.items()}
    for command in SPECS["1.2"].required_headers
}
#: Only these frames may carry a body.
BODY_COMMANDS = frozenset({"SEND", "MESSAGE", "ERROR"})


def version_problem(frame: Frame, version: str) -> str | None:
    """What STOMP `version` forbids or requires that `frame` gets wrong, or None."""
    command, rules = frame.command, spec(version)
    if command in rules.missing_commands:
        return f"STOMP {version} has no {command} command"
    missing = [name for name in rules.required_headers.get(command, ()) if name not in frame.headers]
    if command == "UNSUBSCRIBE" and not rules.needs_subscription_id and not ({"id", "destination"} & frame.headers.keys()):
        missing = ["id or destination"]
    if missing:
        return f"{command} needs {', '.join(missing)} in STOMP {version}"
    if frame.body and command not in BODY_COMMANDS:
        return f"{command} frames may not have a body"
    return None
