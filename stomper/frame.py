"""The Frame value and its encoding to bytes, with each version's escaping."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

from .errors import FrameError
from .versions import DEFAULT_VERSION, SPECS, UNESCAPED_COMMANDS, VERSIONS, Spec, check_command, spec

__all__ = [
    "CLIENT_COMMANDS", "COMMANDS", "DEFAULT_VERSION", "MISSING_IN_VERSION", "SERVER_COMMANDS", "UNESCAPED_COMMANDS",
    "VERSIONS", "Frame", "check_version", "encode_frame", "escape_header",
]

CLIENT_COMMANDS = frozenset(
    {
        "CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
        "BEGIN", "COMMIT", "ABORT", "DISCONNECT",
    }
)
SERVER_COMMANDS = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"})
COMMANDS = CLIENT_COMMANDS | SERVER_COMMANDS
#: Commands that a given version does not define (from stomper.versions).
MISSING_IN_VERSION = {name: version.missing_commands for name, version in SPECS.items()}

_ESCAPE_TABLES = {name: str.maketrans(dict(version.escapes)) for name, version in SPECS.items() if version.escapes}


def check_version(version: str) -> str:
    """Return `version` if it is one stomper speaks, else raise FrameError."""
    return spec(version).name


class Frame:
    """One STOMP frame: a command, headers and a body of bytes.

    `headers` answers lookups with the first occurrence of a name, as STOMP
    1.1 and 1.2 require; later occurrences of a repeated header (which only a
    frame read off the wire has) are kept in `repeated_headers` so that
    re-encoding the frame loses nothing.
    """

    __slots__ = ("_command", "headers", "repeated_headers", "_body")

    def __init__(
        self,
        command: str = "",
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | bytearray | str = b"",
    ) -> None:
        # Fast paths first: this runs once per frame sent.
        if command in COMMANDS:
            self._command = command
        else:
            self._command = ""
            if command:
                self.command = command
        self.repeated_headers: list[tuple[str, str]] = []
        if type(headers) is dict:
            self.headers: dict[str, str] = headers.copy()
        else:
            self.headers = {}
            if headers:
                self.set_header_items(headers.items() if isinstance(headers, Mapping) else headers)
        if type(body) is bytes:
            self._body = body
        else:
            self.body = body

    @classmethod
    def _from_wire(cls, command: str, headers: dict, repeated: list, body: bytes) -> Frame:
        """Build without validation: the parser has already checked everything."""
        frame = cls.__new__(cls)
        frame._command = command
        frame.headers = headers
        frame.repeated_headers = repeated
        frame._body = body
        return frame

    @property
    def command(self) -> str:
        return self._command

    @command.setter
    def command(self, value: str) -> None:
        value = value.upper()
        if value not in COMMANDS:
            raise FrameError(f"unknown command {value!r}: expected one of {', '.join(sorted(COMMANDS))}")
        self._command = value

    @property
    def body(self) -> bytes:
        return self._body

    @body.setter
    def body(self, value: bytes | bytearray | str) -> None:
        self._body = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)

    def set_header_items(self, items: Iterable[tuple[str, str]]) -> None:
        """Replace the headers by `items`; a repeated name keeps its first value."""
        self.headers = {}
        self.repeated_headers = []
        for name, value in items:
            name, value = str(name), str(value)
            if name in self.headers:
                self.repeated_headers.append((name, value))
            else:
                self.headers[name] = value

    def header_items(self) -> Iterator[tuple[str, str]]:
        """Every header occurrence, first occurrences first."""
        yield from self.headers.items()
        yield from self.repeated_headers

    # The classic stomper face: `cmd`, `pack()` and `unpack()` speak text in
    # `classic_version`, which the pinned modules stomp_10/11/12 override.
    classic_version = DEFAULT_VERSION
    #: How `unpack` reads one frame: `(data, version) -> Frame`. The parser
    #: builds Frames, so this module cannot import it; stomper.classic, which
    #: owns the classic API, installs its reader here when the package loads.
    read_one: ClassVar[Callable[[bytes, str], Frame]]

    @property
    def cmd(self) -> str:
        return self._command

    @cmd.setter
    def cmd(self, value: str) -> None:
        self.command = value

    def pack(self) -> str:
        """The frame as text, encoded for `classic_version`."""
        return self.encode(self.classic_version).decode("utf-8", "surrogateescape")

    def unpack(self, message: str | bytes) -> dict:
        """Read one frame into this object; return it as a classic dict."""
        if not message:
            raise FrameError(f"nothing to unpack in {message!r}")
        if isinstance(message, str):
            message = message.encode("utf-8", "surrogateescape")
        frame = self.read_one(message, self.classic_version)
        self._command, self.headers, self.repeated_headers = frame.command, frame.headers, frame.repeated_headers
        self._body = frame.body
        return frame.as_dict()

    def as_dict(self) -> dict[str, Any]:
        """The classic `{'cmd', 'headers', 'body'}` form, body as text."""
        return {"cmd": self._command, "headers": dict(self.headers), "body": self._body.decode("utf-8", "surrogateescape")}

    def encode(self, version: str = DEFAULT_VERSION, content_length: bool | None = None) -> bytes:
        """The frame as wire bytes for `version`.

        `content_length`: None (default) adds a content-length header to every
        frame that carries a body, as the spec says a client SHOULD; True adds it
        even to an empty body; False adds it only when the body holds a NUL, the
        one case where it is required.

        The common case, str names and values with no ':', newline, CR or
        backslash inside, is recognised from the joined header text in C and
        needs no escaping; anything else takes the careful path.
        """
        if version not in VERSIONS:
            check_version(version)
        command = self._command
        if not command:
            raise FrameError("a frame needs a command")
        if command in MISSING_IN_VERSION[version]:
            check_command(command, version)
        headers, repeated, body = self.headers, self.repeated_headers, self._body
        count = len(headers) + len(repeated)
        try:
            text = "\n".join(map(":".join, self.header_items() if repeated else headers.items()))
        except TypeError:  # a value that is not a str, such as an int
            text = "\\"
        if text.count(":") == count and text.count("\n") == count - 1 and "\\" not in text and "\r" not in text and "" not in headers:
            text = text + "\n" if count else ""
        else:
            text = _escaped_header_block(self, version)
        if body and content_length is None and "content-length" not in headers:
            text = f"{text}content-length:{len(body)}\n"
        else:
            text += _content_length_header(self, content_length)
        try:
            encoded = f"{command}\n{text}\n".encode()
        except UnicodeEncodeError as error:
            # Lone surrogates (e.g. text decoded with surrogateescape) have no UTF-8 form.
            raise FrameError(f"header text {error.object[error.start:error.end]!r} cannot be encoded as UTF-8") from None
        return b"".join((encoded, body, b"\0"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return (
            self._command == other._command
            and self.headers == other.headers
            and self.repeated_headers == other.repeated_headers
            and self._body == other._body
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Frame({self._command!r}, {self.headers!r}, {self._body!r})"


def escape_header(text: str, version: str) -> str:
    """Escape a header name or value for `version` (1.0 has no escapes)."""
    table = _ESCAPE_TABLES.get(version)
    return text.translate(table) if table else text


def _check_unescaped(command: str, name: str, value: str, rules: Spec) -> None:
    """Refuse what cannot be written without escapes (1.0, CONNECT, CONNECTED)."""
    why = f"in a {command} frame" if rules.escapes_headers else f"in STOMP {rules.name}"
    if ":" in name:
        raise FrameError(f"header name {name!r} contains ':', which cannot be written {why}")
    if "\n" in name or "\n" in value:
        raise FrameError(f"header {name!r} contains a newline, which cannot be written {why}")
    if name.endswith("\r") or value.endswith("\r"):
        raise FrameError(f"header {name!r} ends with a carriage return, which cannot be written {why}")


def _encode_header(command: str, name: str, value: str, rules: Spec) -> str:
    if not name:
        raise FrameError("a header name cannot be empty")
    escapes = rules.escapes
    if escapes and "\r" not in escapes and ("\r" in name or "\r" in value):
        raise FrameError(f"header {name!r} contains a carriage return, which STOMP {rules.name} cannot escape")
    if not escapes or command in UNESCAPED_COMMANDS:
        _check_unescaped(command, name, value, rules)
        return f"{name}:{value}\n"
    return f"{escape_header(name, rules.name)}:{escape_header(value, rules.name)}\n"


def _content_length_header(frame: Frame, content_length: bool | None) -> str:
    """The content-length line to add, if any; checks a supplied one."""
    body = frame.body
    supplied = frame.headers.get("content-length")
    if supplied is not None:
        if str(supplied) != str(len(body)):
            raise FrameError(f"content-length header says {supplied!r} but the body has {len(body)} bytes")
        return ""
    wanted = bool(body) if content_length is None else content_length or b"\x00" in body
    return f"content-length:{len(body)}\n" if wanted else ""


def _escaped_header_block(frame: Frame, version: str) -> str:
    """Header lines for `version`, escaping (or refusing) what needs it."""
    command, rules = frame.command, spec(version)
    return "".join(_encode_header(command, str(name), str(value), rules) for name, value in frame.header_items())


#: The same as `Frame.encode`, as a function.
encode_frame = Frame.encode
