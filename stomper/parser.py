"""FrameParser: turns a byte stream, cut anywhere, into Frames.

The parser keeps one buffer holding at most the frame being assembled. It
remembers how far it has searched, so bytes arriving one at a time are never
searched twice, and it drops consumed bytes once per `feed`, so a chunk that
holds hundreds of frames costs per frame, not per frame times buffer.
"""

from __future__ import annotations

import re
import sys
from itertools import repeat

from .errors import FrameError, FrameTooLarge
from .frame import COMMANDS, Frame, check_version
from .versions import DEFAULT_VERSION, SPECS, UNESCAPED_COMMANDS, Spec, spec

DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024
DEFAULT_MAX_HEADERS = 1000
DEFAULT_MAX_HEADER_LINE = 64 * 1024

#: How many distinct content-length texts a parser keeps converted.
_SIZES_KEPT = 64
_NOWHERE = sys.maxsize  # what a search that found nothing remembers: past every position, never searched again

#: For reading, per version: the letter after a backslash -> the character it stands for.
_UNESCAPES = {name: rules.unescapes for name, rules in SPECS.items()}


#: Endless arguments for `map(str.split, lines, _COLONS, _ONCE)`: each header line split at its first ':', in C.
_COLONS = repeat(":")
_ONCE = repeat(1)
_split = str.split


def _simple_unescape(command: str, headers: dict[str, str], text: str, rules: Spec) -> dict[str, str] | None:
    """`headers`, read from the head block `text`, with the common escapes (\\c, \\n, and \\r in 1.2) undone in place; None for the careful path.

    Handles the frequent case (a broker escaping the ':' of its message ids)
    without a regex and without looking at the other headers: it goes from
    one backslash of `text` to the next and rewrites only the values that
    hold one. Anything else (an escaped name, an escaped backslash, an
    undefined escape, version 1.0, CONNECTED) goes the careful way, which
    also words the errors.
    """
    if not rules.escapes or command in UNESCAPED_COMMANDS:
        return None
    backslash = text.find("\\")
    while backslash >= 0:
        line_start = text.rfind("\n", 0, backslash) + 1
        colon = text.find(":", line_start, backslash)
        if colon < 0 or not line_start:  # the backslash is in a name, or in the command line
            return None
        line_end = text.find("\n", backslash)
        if line_end < 0:
            line_end = len(text)
        # The replacements never join two backslashes, so one is left over exactly when
        # the value holds an escaped backslash or an undefined escape: the careful path.
        value = text[colon + 1 : line_end].replace("\\c", ":")
        if "\\" in value:
            value = value.replace("\\n", "\n")
            if rules.crlf:
                value = value.replace("\\r", "\r")
            if "\\" in value:
                return None
        headers[text[line_start:colon]] = value  # an existing key: the dict keeps its size and order
        backslash = text.find("\\", line_end)
    return headers


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


class _Snapshot:
    """An immutable copy of the unparsed bytes, made at most once per `feed`, for the fast path.

    Besides the copy it keeps where the fast path's searches left off: the
    next blank line (a possible end of a header block) and the next CR at or
    after the frame being looked at. The fast path is entered again after
    every item the careful path takes; with this memory it neither copies
    the rest of the buffer again nor searches the same bytes twice.
    """

    __slots__ = ("data", "base", "blank_line", "carriage_return")

    def __init__(self, data: bytes, base: int) -> None:
        self.data = data
        self.base = base  # buffer index of data[0]
        self.blank_line = -1  # index in data of a "\n\n" at or after the current frame, or _NOWHERE
        self.carriage_return = -1  # index in data of a "\r" at or after the current frame, or _NOWHERE


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
    `max_header_line` counts every byte of a line before its LF, so the CR of
    a CRLF line ending counts too: until the next byte arrives nobody can
    tell a line-ending CR from one inside a value, and counting it keeps the
    answer the same however the stream is cut.

    Frames, errors, error reasons and offsets do not depend on how the stream
    is cut into `feed` calls: a limit is reported at the first byte that
    breaks it, as if the stream had arrived byte by byte. Every path costs
    time linear in the bytes fed.
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
        self._counted = 0  # how far the arriving header block was checked against the limits
        self._head_lines = 0  # newlines counted in the arriving header block
        self._head: _Head | None = None
        self._error: FrameError | None = None
        #: content-length texts already checked and converted: a stream of same-sized messages converts one.
        self._sizes: dict[str, int] = {}

    @property
    def version(self) -> str:
        return self._version

    @version.setter
    def version(self, value: str) -> None:
        """Switch version mid-stream, as after CONNECTED negotiates one."""
        self._version = check_version(value)
        self._rules = spec(value)

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
        snapshot: _Snapshot | None = None
        while pos < end:
            head = self._head
            if head is None and (self._scan <= pos or self._head_ends_here(buf, pos)):
                if snapshot is None:
                    with memoryview(buf) as view:
                        snapshot = _Snapshot(bytes(view[pos:]), pos)
                pos = self._parse_ordinary_frames(frames, snapshot, pos)
                if pos >= end:
                    break
                head = self._head
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

    def _head_ends_here(self, buf: bytearray, pos: int) -> bool:
        """Whether the header block that began arriving earlier at `pos` is now complete, with LF line endings.

        Then the fast path can take the frame, rather than the careful path
        parsing its header lines again. The search resumes where the careful
        path left off, so the bytes of earlier feeds are not searched again.
        """
        return buf.find(b"\n\n", max(pos, self._scan)) >= 0

    def _parse_ordinary_frames(self, frames: list[Frame], snapshot: _Snapshot, pos: int) -> int:
        """Parse heart-beats and whole, ordinary frames from buffer index `pos` in as few steps as possible.

        Ordinary: LF line endings, no escapes, no repeated or empty header
        names, within the limits, complete in the buffer. This is nearly every
        frame a broker sends; at the first one that is not, return its
        position and let the careful path take over (it also makes the errors).
        Works on the feed's immutable snapshot, so that each header block and
        body is sliced out with one copy instead of two; the snapshot's
        memory of earlier searches keeps the re-entries after careful items
        from searching the same bytes again.
        """
        data, offset = snapshot.data, snapshot.base
        pos -= offset
        end = len(data)
        blank_line, carriage_return = snapshot.blank_line, snapshot.carriage_return
        max_head, max_size, max_headers = self.max_header_line - 2, self.max_frame_size, self.max_headers
        heartbeats = 0
        new_frame = Frame.__new__
        sizes = self._sizes
        while pos < end:
            byte = data[pos]
            if byte == 10:
                heartbeats += 1
                pos += 1
                continue
            if byte == 13:
                if pos + 1 < end and data[pos + 1] == 10:
                    heartbeats += 1
                    pos += 2
                    continue
                break
            if blank_line < pos:
                blank_line = data.find(b"\n\n", pos)
                if blank_line < 0:
                    blank_line = _NOWHERE
            head_end = blank_line
            if head_end - pos > max_head:  # the whole block, as if on one line, within the line limit
                break
            if carriage_return < pos:
                carriage_return = data.find(b"\r", pos)
                if carriage_return < 0:
                    carriage_return = _NOWHERE
            if carriage_return < head_end:
                break
            try:
                text = data[pos:head_end].decode("utf-8")
            except UnicodeDecodeError:
                break
            lines = text.split("\n")
            command = lines[0]
            del lines[0]
            try:
                headers = dict(map(_split, lines, _COLONS, _ONCE))
            except ValueError:  # a line without ':'
                break
            if len(headers) != len(lines) or "" in headers:  # a repeated or empty name
                break
            if "\\" in text:
                headers = _simple_unescape(command, headers, text, self._rules)
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
            else:
                size = sizes.get(length)
                if size is None:
                    if not (length.isdigit() and length.isascii() and len(length) < 19):  # int() refuses thousands of digits
                        break
                    size = int(length)
                    if len(sizes) < _SIZES_KEPT:
                        sizes[length] = size
                nul = body_start + size
                if end <= nul < pos + max_size:  # the body is still arriving: keep the parsed head for the next feed
                    self._head = _Head(command, headers, [], body_start - pos, size)
                    break
                if nul >= end or data[nul] != 0 or nul >= pos + max_size:
                    break
            frame = new_frame(Frame)
            frame._command, frame.headers, frame.repeated_headers = command, headers, []
            frame._body = data[body_start:nul]
            frames.append(frame)
            pos = nul + 1
        self.heartbeats += heartbeats
        snapshot.blank_line, snapshot.carriage_return = blank_line, carriage_return
        if pos + offset > self._scan or self._head is not None:
            self._head_lines = 0  # a header block the careful path had begun counting was taken here whole
        # Never back: a frame the fast path hands over keeps the careful path's place in its header block.
        self._scan = max(self._scan, pos + offset)
        return pos + offset

    def _find_head_end(self, buf: bytearray, pos: int, end: int) -> tuple[int, int]:
        """(end of header block, start of body), or (-1, -1) if not yet here.

        The block ends at the first LF followed by LF or by CR LF. Found by
        stepping from line to line, so that no search runs past the block
        (a search for LF LF alone would cross a stream of CRLF frames again
        for each of them). CRLF is recognised in every version, so that CRLF
        outside 1.2 gets a clear error.
        """
        newline = buf.find(b"\n", max(pos, self._scan))
        while newline >= 0:
            after = buf[newline + 1 : newline + 3]
            if after[:1] == b"\n":
                return newline, newline + 2
            if after == b"\r\n":
                return newline, newline + 3
            newline = buf.find(b"\n", newline + 1)
        self._scan = max(end - 2, pos)
        return -1, -1

    def _parse_head(self, buf: bytearray, pos: int, end: int) -> _Head | None:
        head_end, body_start = self._find_head_end(buf, pos, end)
        if head_end < 0:
            self._check_head_limits(buf, pos, end)
            return None
        # The last byte completes the block; every shorter prefix could have arrived alone.
        self._check_head_limits(buf, pos, body_start - 1)
        self._scan = body_start
        self._head_lines = 0
        if body_start - head_end == 3 and not self._rules.crlf:
            self._fail(f"CRLF line endings are only allowed in STOMP 1.2, not {self._version}", head_end + 1)
        try:
            text = buf[pos:head_end].decode("utf-8")
        except UnicodeDecodeError as error:
            self._fail(f"header bytes are not valid UTF-8: {error.reason}", pos + error.start)
        lines = text.split("\n")
        if "\r" in text:
            lines = self._strip_carriage_returns(lines, pos)
        command = lines[0]
        if command not in COMMANDS:
            self._fail(f"unknown command {command[:40]!r}", pos)
        headers, repeated = self._parse_headers(command, lines, pos, text)
        return _Head(command, headers, repeated, body_start - pos, self._content_length(headers, pos))

    def _check_head_limits(self, buf: bytearray, pos: int, stop: int) -> None:
        """Enforce the limits on the header block starting at `pos`, received up to `stop`.

        Each limit is broken at one byte of the stream, and the error is the
        one whose byte comes first (frame size before header count before
        line length at the same byte), so it is the same however the stream
        was cut. Only bytes not examined before are searched, so a header
        block that trickles in byte by byte costs linear time, and a peer
        sending header lines forever is stopped at `max_headers`, not at the
        frame size.
        """
        start = max(pos, self._counted)
        if start >= stop:
            return
        self._counted = stop
        breaches = []  # (index of the breaking byte, rank, what is wrong, offset of the error)
        if stop - pos > self.max_frame_size:
            breaches.append((pos + self.max_frame_size, 0, "frame header", pos))
        newlines = buf.count(b"\n", start, stop)
        allowed = self.max_headers + 1 - self._head_lines  # newlines this block may still have
        if newlines > allowed:
            breaking = start - 1
            for _ in range(allowed + 1):
                breaking = buf.index(b"\n", breaking + 1)
            breaches.append((breaking, 1, f"frame has more than the limit of {self.max_headers} headers", pos))
        line_start = max(pos, self._line_start)
        if stop - line_start > self.max_header_line:  # else no line here can be too long
            breaches += self._long_line(buf, line_start, start, stop)
        self._head_lines += newlines
        if newlines:
            self._line_start = buf.rfind(b"\n", start, stop) + 1
        if breaches:
            _, rank, reason, offset = min(breaches)
            if rank == 0:
                self._too_large(reason, stop - pos, offset)
            self._fail(reason, offset)

    def _long_line(self, buf: bytearray, line_start: int, start: int, stop: int) -> list[tuple[int, int, str, int]]:
        """The first line from `line_start` (no LF before `start`) to `stop` longer than the limit, as a breach."""
        limit = self.max_header_line
        newline = buf.find(b"\n", start, stop)
        while newline >= 0 and newline - line_start <= limit:
            line_start = newline + 1
            newline = buf.find(b"\n", line_start, stop)
        if (stop if newline < 0 else newline) - line_start <= limit:
            return []
        return [(line_start + limit, 2, f"header line longer than the limit of {limit} bytes", line_start)]

    def _strip_carriage_returns(self, lines: list[str], pos: int) -> list[str]:
        if not self._rules.crlf:
            if any(line.endswith("\r") for line in lines):
                self._fail(f"CRLF line endings are only allowed in STOMP 1.2, not {self._version}", pos)
            return lines
        return [line[:-1] if line.endswith("\r") else line for line in lines]

    def _line_offset(self, index: int, pos: int) -> int:
        """Buffer index of line `index` of the frame at `pos`, counted in raw bytes (CRs included)."""
        for _ in range(index):
            pos = self._buffer.index(b"\n", pos) + 1
        return pos

    def _parse_headers(self, command: str, lines: list[str], pos: int, text: str) -> tuple[dict, list]:
        version = self._version
        escaped = self._rules.escapes_headers and command not in UNESCAPED_COMMANDS
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
            # Known as soon as the head is: refused before the body arrives, whatever the cut.
            if nul + 1 - pos > self.max_frame_size:
                self._too_large("frame", nul + 1 - pos, pos)
            if nul >= end:
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
