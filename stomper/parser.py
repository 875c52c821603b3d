"""FrameParser: turns a byte stream, cut anywhere, into Frames.

The parser keeps one buffer holding at most the frame being assembled. It
remembers how far it has searched, so bytes arriving one at a time are never
searched twice, and it drops consumed bytes once per `feed`, so a chunk that
holds hundreds of frames costs per frame, not per frame times buffer.
"""

from __future__ import annotations

import re

from .errors import FrameError, FrameTooLarge
from .frame import COMMANDS, DEFAULT_VERSION, UNESCAPED_COMMANDS, Frame, check_version

DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024
DEFAULT_MAX_HEADERS = 1000
DEFAULT_MAX_HEADER_LINE = 64 * 1024

_UNESCAPES = {"1.1": {"n": "\n", "c": ":", "\\": "\\"}}
_UNESCAPES["1.2"] = {**_UNESCAPES["1.1"], "r": "\r"}


def _ordinary_headers(text: str) -> tuple[str, dict[str, str]] | None:
    """(command, headers) of a head block, or None when it needs the careful path.

    None when a line has no ':' or a name repeats or is empty.
    """
    lines = text.split("\n")
    command = lines.pop(0)
    try:
        headers = dict([line.split(":", 1) for line in lines])
    except ValueError:
        return None
    return (command, headers) if len(headers) == len(lines) and "" not in headers else None


def _simple_unescape(command: str, headers: dict[str, str], version: str) -> dict[str, str] | None:
    """Headers with the common escapes (\\c, \\n, and \\r in 1.2) undone, or None for the careful path.

    Handles the frequent case (a broker escaping the ':' of its message ids)
    without a regex; anything else (an escaped backslash, an undefined
    escape, version 1.0, CONNECTED, names that collide) goes the careful way.
    """
    if version == "1.0" or command in UNESCAPED_COMMANDS:
        return None
    unescaped = {}
    for name, value in headers.items():
        if "\\" in name or "\\" in value:
            if "\\\\" in name or "\\\\" in value:
                return None
            name = name.replace("\\c", ":").replace("\\n", "\n")
            value = value.replace("\\c", ":").replace("\\n", "\n")
            if version == "1.2":
                name, value = name.replace("\\r", "\r"), value.replace("\\r", "\r")
            if "\\" in name or "\\" in value or name in unescaped:
                return None
        elif name in unescaped:
            return None
        unescaped[name] = value
    return unescaped


_ESCAPE_SEQUENCE = re.compile(r"\\(.?)", re.DOTALL)


def unescape_header(text: str, version: str) -> str:
    """Undo header escaping for `version`; an undefined escape is an error."""
    table = _UNESCAPES[version]

    def replace(match: re.Match[str]) -> str:
        try:
            return table[match.group(1)]
        except KeyError:
            raise FrameError(f"undefined escape sequence {match.group(0)!r} in STOMP {version} header") from None

    return _ESCAPE_SEQUENCE.sub(replace, text)


class _Head:
    """A parsed command and headers whose body has not fully arrived."""

    __slots__ = ("command", "headers", "repeated", "head_size", "length")

    def __init__(self, command: str, headers: dict, repeated: list, head_size: int, length: int | None) -> None:
        self.command = command
        self.headers = headers
        self.repeated = repeated
        self.head_size = head_size  # bytes from frame start to body start
        self.length = length  # content-length, or None for a NUL-terminated body


class FrameParser:
    """Incremental STOMP parser: `feed(bytes) -> list[Frame]`.

    Heart-beat EOLs between frames are counted in `heartbeats`, not returned.
    Any malformed input raises `FrameError` carrying the stream offset and the
    frames completed earlier in the same `feed` (as `error.frames`). After an
    error the parser stays failed: the stream is out of sync, and the caller
    should drop the connection.

    Limits (`max_frame_size` counts the whole frame, command to NUL;
    `max_headers`; `max_header_line` in bytes) are checked as data arrives,
    so a hostile peer cannot make the buffer grow past them.
    """

    def __init__(
        self,
        version: str = DEFAULT_VERSION,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_header_line: int = DEFAULT_MAX_HEADER_LINE,
    ) -> None:
        self.version = version
        self.max_frame_size = max_frame_size
        self.max_headers = max_headers
        self.max_header_line = max_header_line
        self.heartbeats = 0
        self._buffer = bytearray()
        self._base = 0  # stream offset of _buffer[0]
        self._scan = 0  # where the search for the current delimiter resumes
        self._line_start = 0  # start of the header line being received
        self._counted = 0  # how far newlines of the arriving header block were counted
        self._head_lines = 0  # newlines counted in the arriving header block
        self._head: _Head | None = None
        self._error: FrameError | None = None

    @property
    def version(self) -> str:
        return self._version

    @version.setter
    def version(self, value: str) -> None:
        """Switch version mid-stream, as after CONNECTED negotiates one."""
        self._version = check_version(value)

    @property
    def buffered(self) -> int:
        """Bytes held of a frame not yet complete."""
        return len(self._buffer)

    @property
    def offset(self) -> int:
        """Stream offset of the first byte not yet consumed."""
        return self._base

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add bytes from the stream; return the frames they complete."""
        if self._error is not None:
            raise FrameError(f"parser already failed: {self._error.reason}", self._error.offset)
        self._buffer += data
        frames: list[Frame] = []
        try:
            self._parse(frames)
        except FrameError as error:
            error.frames = frames  # type: ignore[attr-defined]
            self._error = error
            raise
        return frames

    def close(self) -> None:
        """Declare end of stream: an unfinished frame is an error."""
        if self._error is None and self._buffer.strip(b"\r\n"):
            self._fail("stream ended inside a frame", 0)

    def _fail(self, reason: str, index: int) -> None:
        error = FrameError(reason, self._base + index)
        self._error = error
        raise error

    def _too_large(self, what: str, size: int, index: int) -> None:
        """Fail with FrameTooLarge: `what` exceeds the limit; `size` is the frame size known so far."""
        limit = self.max_frame_size
        error = FrameTooLarge(f"{what} exceeds the frame size limit of {limit} bytes", self._base + index, size, limit)
        self._error = error
        raise error

    def _parse(self, frames: list[Frame]) -> None:
        buf = self._buffer
        end = len(buf)
        pos = 0
        while pos < end:
            head = self._head
            if head is None and self._scan <= pos:
                pos = self._parse_ordinary_frames(frames, buf, pos)
                if pos >= end:
                    break
            if head is None:
                byte = buf[pos]
                if byte == 10:
                    self.heartbeats += 1
                    pos += 1
                    continue
                if byte == 13:
                    if pos + 1 == end:
                        break
                    if buf[pos + 1] != 10:
                        self._fail("carriage return not followed by line feed between frames", pos)
                    self.heartbeats += 1
                    pos += 2
                    continue
                head = self._parse_head(buf, pos, end)
                if head is None:
                    break
            size = self._complete_body(frames, head, buf, pos, end)
            if size < 0:
                self._head = head
                break
            self._head = None
            pos += size
        if pos:
            del buf[:pos]
            self._base += pos
            self._scan = max(self._scan - pos, 0)
            self._line_start = max(self._line_start - pos, 0)
            self._counted = max(self._counted - pos, 0)

    def _parse_ordinary_frames(self, frames: list[Frame], buf: bytearray, pos: int) -> int:
        """Parse whole, ordinary frames from `pos` in as few steps as possible.

        Ordinary: LF line endings, no escapes, no repeated or empty header
        names, within the limits, complete in the buffer. This is nearly every
        frame a broker sends; at the first one that is not, return its
        position and let the careful path take over (it also makes the errors).
        Works on an immutable copy of the unparsed bytes, so that each header
        block and body is sliced out with one copy instead of two.
        """
        with memoryview(buf) as view:
            data = bytes(view[pos:])
        offset, pos, end = pos, 0, len(data)
        max_line, max_size, max_headers = self.max_header_line, self.max_frame_size, self.max_headers
        heartbeats = 0
        new_frame = Frame.__new__
        while pos < end:
            if data[pos] == 10:
                heartbeats += 1
                pos += 1
                continue
            head_end = data.find(b"\n\n", pos, pos + max_line)
            if head_end < 0:
                break
            try:
                text = data[pos:head_end].decode("utf-8")
            except UnicodeDecodeError:
                break
            if "\r" in text:
                break
            parsed = _ordinary_headers(text)
            if parsed is None:
                break
            command, headers = parsed
            if "\\" in text:
                headers = _simple_unescape(command, headers, self._version)
                if headers is None:
                    break
            if command not in COMMANDS or len(headers) > max_headers:
                break
            body_start = head_end + 2
            length = headers.get("content-length")
            if length is None:
                nul = data.find(0, body_start, pos + max_size)
                if nul < 0:
                    break
            elif length.isdigit() and length.isascii() and len(length) < 19:  # int() refuses thousands of digits
                nul = body_start + int(length)
                if nul >= end or data[nul] != 0 or nul >= pos + max_size:
                    break
            else:
                break
            frame = new_frame(Frame)
            frame._command, frame.headers, frame.repeated_headers = command, headers, []
            frame._body = data[body_start:nul]
            frames.append(frame)
            pos = nul + 1
        self.heartbeats += heartbeats
        self._scan = pos + offset
        return pos + offset

    def _find_head_end(self, buf: bytearray, pos: int, end: int) -> tuple[int, int]:
        """(end of header block, start of body), or (-1, -1) if not yet here."""
        start = max(pos, self._scan)
        lf_lf = buf.find(b"\n\n", start)
        # Searched in every version, so that CRLF outside 1.2 gets a clear error.
        crlf = buf.find(b"\n\r\n", start, end if lf_lf < 0 else lf_lf + 2)
        if crlf >= 0:
            return crlf, crlf + 3
        if lf_lf >= 0:
            return lf_lf, lf_lf + 2
        self._scan = max(end - 2, pos)
        return -1, -1

    def _parse_head(self, buf: bytearray, pos: int, end: int) -> _Head | None:
        head_end, body_start = self._find_head_end(buf, pos, end)
        if head_end < 0:
            self._check_partial_head(buf, pos, end)
            return None
        self._scan = body_start
        self._head_lines = 0
        if body_start - head_end == 3 and self._version != "1.2":
            self._fail(f"CRLF line endings are only allowed in STOMP 1.2, not {self._version}", head_end + 1)
        try:
            text = buf[pos:head_end].decode("utf-8")
        except UnicodeDecodeError as error:
            self._fail(f"header bytes are not valid UTF-8: {error.reason}", pos + error.start)
        lines = text.split("\n")
        if "\r" in text:
            lines = self._strip_carriage_returns(lines, pos)
        if len(text) > self.max_header_line:
            self._check_line_lengths(lines, pos)
        command = lines[0]
        if command not in COMMANDS:
            self._fail(f"unknown command {command[:40]!r}", pos)
        if len(lines) - 1 > self.max_headers:
            self._fail(f"frame has {len(lines) - 1} headers, more than the limit of {self.max_headers}", pos)
        headers, repeated = self._parse_headers(command, lines, pos, text)
        return _Head(command, headers, repeated, body_start - pos, self._content_length(headers, pos))

    def _check_partial_head(self, buf: bytearray, pos: int, end: int) -> None:
        """Enforce limits on a header block that is still arriving.

        Only bytes not examined before are searched, so a header block that
        trickles in byte by byte costs linear time, and a peer sending
        header lines forever is stopped at `max_headers`, not at the frame size.
        """
        if end - pos > self.max_frame_size:
            self._too_large("frame header", end - pos, pos)
        start = max(pos, self._counted)
        self._counted = end
        newlines = buf.count(b"\n", start, end)
        if newlines:
            self._head_lines += newlines
            self._line_start = buf.rfind(b"\n", start, end) + 1
            if self._head_lines - 1 > self.max_headers:
                self._fail(f"frame has more than the limit of {self.max_headers} headers", pos)
        line_start = max(pos, self._line_start)
        if end - line_start > self.max_header_line:
            self._fail(f"header line longer than the limit of {self.max_header_line} bytes", line_start)

    def _strip_carriage_returns(self, lines: list[str], pos: int) -> list[str]:
        if self._version != "1.2":
            if any(line.endswith("\r") for line in lines):
                self._fail(f"CRLF line endings are only allowed in STOMP 1.2, not {self._version}", pos)
            return lines
        return [line[:-1] if line.endswith("\r") else line for line in lines]

    def _check_line_lengths(self, lines: list[str], pos: int) -> None:
        for line in lines:
            if len(line.encode("utf-8")) > self.max_header_line:
                self._fail(f"header line longer than the limit of {self.max_header_line} bytes", pos)

    def _line_offset(self, index: int, pos: int) -> int:
        """Buffer index of line `index` of the frame at `pos`, counted in raw bytes (CRs included)."""
        for _ in range(index):
            pos = self._buffer.index(b"\n", pos) + 1
        return pos

    def _parse_headers(self, command: str, lines: list[str], pos: int, text: str) -> tuple[dict, list]:
        version = self._version
        escaped = version != "1.0" and command not in UNESCAPED_COMMANDS
        if not escaped or "\\" not in text:
            # Common case, done in C: no escapes, no repeated or empty names.
            try:
                headers = dict([line.split(":", 1) for line in lines[1:]])
            except ValueError:  # a line without ':'; the loop below says which
                headers = None
            if headers is not None and len(headers) == len(lines) - 1 and "" not in headers:
                return headers, []
        headers: dict[str, str] = {}
        repeated: list[tuple[str, str]] = []
        for index in range(1, len(lines)):
            line = lines[index]
            name, colon, value = line.partition(":")
            if not colon:
                self._fail(f"header line {line[:40]!r} has no ':'", self._line_offset(index, pos))
            if not name:
                self._fail("header line has an empty name", self._line_offset(index, pos))
            if escaped and "\\" in line:
                try:
                    name = unescape_header(name, version)
                    value = unescape_header(value, version)
                except FrameError as error:
                    self._fail(error.reason, self._line_offset(index, pos))
            if name in headers:
                repeated.append((name, value))
            else:
                headers[name] = value
        return headers, repeated

    def _content_length(self, headers: dict, pos: int) -> int | None:
        text = headers.get("content-length")
        if text is None:
            return None
        if not (text.isascii() and text.isdigit()):
            self._fail(f"content-length {text[:40]!r} is not a number of bytes", pos)
        # int() refuses strings of thousands of digits; none of those fits a frame anyway.
        digits = text.lstrip("0") or "0"
        length = int(digits) if len(digits) <= len(str(self.max_frame_size)) else self.max_frame_size
        if length >= self.max_frame_size:
            shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"
            self._too_large(f"content-length {shown}", length, pos)
        return length

    def _complete_body(self, frames: list[Frame], head: _Head, buf: bytearray, pos: int, end: int) -> int:
        """Append the frame if its body is complete; return its size or -1."""
        body_start = pos + head.head_size
        if head.length is not None:
            nul = body_start + head.length
            if nul >= end:
                if nul - pos >= self.max_frame_size:
                    self._too_large("frame", nul + 1 - pos, pos)
                return -1
            if buf[nul] != 0:
                self._fail("body is not followed by NUL where content-length says it ends", nul)
        else:
            nul = buf.find(0, max(body_start, self._scan))
            if nul < 0:
                self._scan = end
                if end - pos > self.max_frame_size:
                    self._too_large("frame", end - pos, pos)
                return -1
        if nul + 1 - pos > self.max_frame_size:
            self._too_large("frame", nul + 1 - pos, pos)
        frames.append(Frame._from_wire(head.command, head.headers, head.repeated, bytes(buf[body_start:nul])))
        self._scan = nul + 1
        return nul + 1 - pos
