"""The Frame value and its encoding to bytes, with each version's escaping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .errors import FrameError

VERSIONS = ("1.0", "1.1", "1.2")
DEFAULT_VERSION = "1.2"

CLIENT_COMMANDS = frozenset(
    {
        "CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
        "BEGIN", "COMMIT", "ABORT", "DISCONNECT",
    }
)
SERVER_COMMANDS = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"})
COMMANDS = CLIENT_COMMANDS | SERVER_COMMANDS
#: Commands that a given version does not define.
MISSING_IN_VERSION = {"1.0": frozenset({"STOMP", "NACK"}), "1.1": frozenset(), "1.2": frozenset()}
#: The spec forbids escaping in these: their headers predate version negotiation.
UNESCAPED_COMMANDS = frozenset({"CONNECT", "CONNECTED"})

_ESCAPES_11 = {"\\": "\\\\", "\n": "\\n", ":": "\\c"}
_ESCAPES_12 = {**_ESCAPES_11, "\r": "\\r"}
_ESCAPE_TABLES = {"1.1": str.maketrans(_ESCAPES_11), "1.2": str.maketrans(_ESCAPES_12)}


def check_version(version: str) -> str:
    """Return `version` if it is one stomper speaks, else raise FrameError."""
    if version not in VERSIONS:
        raise FrameError(f"unknown STOMP version {version!r}: expected one of 1.0, 1.1, 1.2")
    return version


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
        from .engine import as_dict, parse_one

        if not message:
            raise FrameError(f"nothing to unpack in {message!r}")
        if isinstance(message, str):
            message = message.encode("utf-8", "surrogateescape")
        frame = parse_one(message, self.classic_version)
        self._command, self.headers, self.repeated_headers = frame.command, frame.headers, frame.repeated_headers
        self._body = frame.body
        return as_dict(frame)

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
            raise FrameError(f"STOMP {version} has no {command} command")
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


def _check_unescaped(command: str, name: str, value: str, version: str) -> None:
    """Refuse what cannot be written without escapes (1.0, CONNECT, CONNECTED)."""
    why = f"in STOMP {version}" if version == "1.0" else f"in a {command} frame"
    if ":" in name:
        raise FrameError(f"header name {name!r} contains ':', which cannot be written {why}")
    if "\n" in name or "\n" in value:
        raise FrameError(f"header {name!r} contains a newline, which cannot be written {why}")
    if name.endswith("\r") or value.endswith("\r"):
        raise FrameError(f"header {name!r} ends with a carriage return, which cannot be written {why}")


def _encode_header(command: str, name: str, value: str, version: str) -> str:
    if not name:
        raise FrameError("a header name cannot be empty")
    if version == "1.1" and ("\r" in name or "\r" in value):
        raise FrameError(f"header {name!r} contains a carriage return, which STOMP 1.1 cannot escape")
    if version == "1.0" or command in UNESCAPED_COMMANDS:
        _check_unescaped(command, name, value, version)
        return f"{name}:{value}\n"
    return f"{escape_header(name, version)}:{escape_header(value, version)}\n"


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
    command = frame.command
    return "".join(_encode_header(command, str(name), str(value), version) for name, value in frame.header_items())


#: The same as `Frame.encode`, as a function.
encode_frame = Frame.encode
