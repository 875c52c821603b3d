"""The REPL's commands, one small Click command each, run against a `Session`.

Click parses each command line (after `shlex` split it), so options, choices
and `help COMMAND` work as in the CLI, and a bad command line is a Click
UsageError (exit code 2 in a scripted run). `COMMANDS` is also what the
prompt's completer offers. `execute` runs one line and `run_script` a whole
script; the Session knows nothing of this module.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable

import click

from stomper import FrameParser, commands
from stomper.commands import ACK_MODES, next_id
from stomper.rules import version_problem

from .errors import nearest
from .options import Seconds, header_option
from .repl_session import Entry, ReplError, Session

COMMANDS: dict[str, click.Command] = {}
ALIASES = {"exit": "quit", "?": "help"}
#: What `frame` reads until (besides a NUL).
FRAME_END = "."
_CONTEXT = {"help_option_names": ["-h", "--help"]}
_HEREDOC = re.compile(r"(?:^|\s)<<(\S*)\s*$")
#: Files the REPL writes (`save`) hold message bodies: only their owner may read them.
PRIVATE_FILE_MODE = 0o600


#: A wait the REPL accepts: more than nothing, at most what a timer holds (NaN and infinities are usage errors).
SECONDS = Seconds(0.001)


class QuitSession(Exception):  # noqa: N818 - a signal, not an error
    """Raised by `quit` to end the session."""


def command(name: str, **attrs):
    """Register a REPL command: click.command with the REPL's settings, the Session as first argument."""

    def decorate(function):
        cmd = click.command(name, context_settings=_CONTEXT, **attrs)(click.pass_obj(function))
        COMMANDS[name] = cmd
        return cmd

    return decorate


def lookup(name: str) -> click.Command:
    found = COMMANDS.get(ALIASES.get(name, name))
    if found is None:
        suggestion = nearest(name, [*COMMANDS, *ALIASES])
        hint = f", did you mean {suggestion}?" if suggestion else ""
        raise click.UsageError(f"unknown command {name!r}{hint} (type `help` for the list)")
    return found


def run_command(session: Session, name: str, args: list[str], heredoc: str | None = None) -> None:
    """Parse `args` for command `name` and run it; a here-document becomes its --body."""
    cmd = lookup(name)
    if heredoc is not None:
        if not any("--body" in param.opts for param in cmd.params):
            raise click.UsageError(f"{cmd.name} takes no << body")
        args = ["--body", heredoc, *args]
    try:
        with cmd.make_context(cmd.name, list(args), obj=session) as ctx:
            cmd.invoke(ctx)
    except click.exceptions.Exit:
        pass  # --help was shown
    except click.UsageError as error:
        if error.ctx is None:
            raise
        raise click.UsageError(f"{cmd.name}: {error.format_message()} (see `help {cmd.name}`)") from None


def last_out(session: Session, command_name: str) -> str:
    """'#N', the history number of the last frame of this command that the session sent."""
    for entry in reversed(session.history):
        if entry.direction == "out" and entry.frame.command == command_name:
            return f"#{entry.number}"
    return "#?"


def receipt_note(receipt_id: str | None, deferred: str | None = None) -> str:
    if deferred:
        return f" (receipt {deferred} asked for; not awaited inside a transaction)"
    return f" (receipt {receipt_id} received)" if receipt_id else ""


def deferred_receipt(session: Session) -> str | None:
    """With receipts on inside a transaction, a receipt id to ask for without waiting.

    Some brokers (RabbitMQ) answer a transacted frame's receipt only at
    COMMIT, and never after ABORT: waiting for it would always time out.
    """
    if session.receipts and session.transaction:
        return next_id("receipt")
    return None


# ----------------------------------------------------------------------
# Messages


@command("send", short_help="Send a message to a destination.", epilog="""\b
Examples:
  send /queue/a hello world
  send /queue/a '{"n": 1}' --content-type application/json -H priority:9
  send /queue/a <<         (then body lines, ended by a line holding only .)
  send /queue/a --body-file data.bin""")
@click.argument("destination")
@click.argument("words", nargs=-1)
@header_option
@click.option("--content-type", metavar="TYPE", help="The content-type header.")
@click.option("--body", metavar="TEXT", help="The body (what `<<` lines become).")
@click.option("--body-file", type=click.Path(exists=True, dir_okay=False), help="Send the content of a file as the body.")
def send_command(session: Session, destination: str, words: tuple[str, ...], headers, content_type, body, body_file) -> None:
    """Send a message to DESTINATION; the body is the remaining words joined by spaces, --body, --body-file or a `<<` here-document.

    Inside a transaction (`begin`) the message carries it.
    """
    given = [what for what, present in (("words", words), ("--body", body is not None), ("--body-file", body_file)) if present]
    if len(given) > 1:
        raise click.UsageError(f"send: give the body once, not as {' and '.join(given)}")
    conn = session.require()
    headers = dict(headers)
    options = {"headers": headers, "content_type": content_type, "transaction": session.transaction, **session.receipt_args()}
    deferred = deferred_receipt(session)
    if deferred:
        headers.setdefault("receipt", deferred)
        options["receipt"] = False
    if body_file:
        with open(body_file, "rb") as stream:
            receipt_id = conn.send(destination, stream, **options)
    else:
        receipt_id = conn.send(destination, " ".join(words) if words else (body or ""), **options)
    where = f" in transaction {session.transaction}" if session.transaction else ""
    session.out.info(f"sent {last_out(session, 'SEND')} to {destination}{where}{receipt_note(receipt_id, deferred)}")


@command("subscribe", short_help="Subscribe to a destination.", epilog="""\b
Examples:
  subscribe /queue/a
  subscribe /queue/a --ack client-individual --id work
  subscribe /topic/t -H selector:"kind = 'x'\"""")
@click.argument("destination")
@click.option("--ack", type=click.Choice(ACK_MODES), default="auto", show_default=True, help="Acknowledgement mode.")
@click.option("--id", "sub_id", metavar="ID", help="The subscription id (default: generated).")
@header_option
def subscribe_command(session: Session, destination: str, ack: str, sub_id: str | None, headers) -> None:
    """Subscribe to DESTINATION; messages are printed as they arrive. `connect` renews the subscription."""
    sub_id = session.subscribe(destination, ack, sub_id, dict(headers))
    session.out.info(f"subscribed {sub_id} to {destination} (ack {ack})")


@command("unsubscribe", short_help="End a subscription.")
@click.argument("subscription")
def unsubscribe_command(session: Session, subscription: str) -> None:
    """End SUBSCRIPTION, given by id (or by destination, when only one subscription has it)."""
    sub_id = subscription
    if sub_id not in session.subscriptions:
        matches = [key for key, spec in session.subscriptions.items() if spec.destination == subscription]
        if len(matches) != 1:
            known = ", ".join(session.subscriptions) or "none"
            raise ReplError(f"no subscription {subscription!r} (subscriptions: {known})")
        sub_id = matches[0]
    connected = session.connected
    session.unsubscribe(sub_id)
    session.out.info(f"unsubscribed {sub_id}" if connected else f"forgot {sub_id} (not connected: it will not be renewed)")


def _acknowledge(session: Session, what: str, message: str | None, every: bool) -> None:
    """ACK or NACK one message (by default the oldest unacknowledged), or with `every` all that await one."""
    if every and message is not None:
        raise click.UsageError(f"{what}: give a MESSAGE or --all, not both")
    if every:
        chosen = session.unacked_to_settle_all(what.upper())
        if not chosen:
            session.out.info(f"nothing to {what}: no message awaits an acknowledgement")
            return
    else:
        chosen = [session.to_settle(message)]
    for entry in chosen:
        _send_acknowledgement(session, what, entry)


def _send_acknowledgement(session: Session, what: str, entry: Entry) -> None:
    """Send the ACK/NACK of `entry`; the library session records what it settled, so that no message is acknowledged twice."""
    conn = session.require()
    deferred = deferred_receipt(session)
    if deferred:
        build = commands.ack if what == "ack" else commands.nack
        conn.send_frame(build(entry.original, transaction=session.transaction, receipt=deferred, version=conn.version))
    else:
        getattr(conn, what)(entry.original, transaction=session.transaction, **session.receipt_args())
    covered = [other for other in session.settled_with(entry) if other is not entry]
    where = f" in transaction {session.transaction}" if session.transaction else ""
    also = f", and with it #{', #'.join(str(other.number) for other in covered)}" if covered else ""
    session.out.info(f"{what}ed #{entry.number} (message-id {entry.frame.headers.get('message-id', '?')}){also}{where}"
                     f"{receipt_note(None, deferred)}")


_all_option = click.option("--all", "every", is_flag=True,
                           help="Every message awaiting one: per client subscription one cumulative frame (ActiveMQ 5 NACKs one "
                                "message at a time: a NACK each), per client-individual one each.")


@command("ack", short_help="Acknowledge a message (default: the oldest unacknowledged one).")
@click.argument("message", required=False)
@_all_option
def ack_command(session: Session, message: str | None, every: bool) -> None:
    """Acknowledge MESSAGE: its message-id, or its number in the history (`#5` or `5`); by default the oldest message
    of a client or client-individual subscription not yet acknowledged.

    A message already acked or nacked is refused here, never sent twice. In
    `client` mode an ACK also covers the subscription's earlier messages.
    Inside a transaction the ACK carries it.
    """
    _acknowledge(session, "ack", message, every)


@command("nack", short_help="Refuse a message (default: the oldest unacknowledged one).")
@click.argument("message", required=False)
@_all_option
def nack_command(session: Session, message: str | None, every: bool) -> None:
    """Refuse MESSAGE (STOMP 1.1 and 1.2): its message-id or history number; by default the oldest message not yet
    acknowledged.

    RabbitMQ redelivers a refused message; ActiveMQ moves it to its dead-letter queue.
    """
    _acknowledge(session, "nack", message, every)


# ----------------------------------------------------------------------
# Transactions


@command("begin", short_help="Begin a transaction.")
@click.argument("transaction", required=False)
def begin_command(session: Session, transaction: str | None) -> None:
    """Begin a transaction (id TRANSACTION, or generated): sends, acks and nacks carry it until `commit` or `abort`."""
    if session.transaction is not None:
        raise ReplError(f"transaction {session.transaction} is open: commit or abort it first")
    session.transaction = session.require().begin(transaction, **session.receipt_args())
    session.out.info(f"began transaction {session.transaction}")


def _finish(session: Session, what: str, transaction: str | None) -> None:
    transaction = transaction or session.transaction
    if transaction is None:
        raise ReplError(f"no transaction to {what} (use `begin`)")
    getattr(session.require(), what)(transaction, **session.receipt_args())
    if transaction == session.transaction:
        session.transaction = None
    session.out.info(f"{'committed' if what == 'commit' else 'aborted'} transaction {transaction}")


@command("commit", short_help="Commit the transaction.")
@click.argument("transaction", required=False)
def commit_command(session: Session, transaction: str | None) -> None:
    """Commit the open transaction (or TRANSACTION): the broker now delivers its sends and applies its acks."""
    _finish(session, "commit", transaction)


@command("abort", short_help="Abort the transaction.")
@click.argument("transaction", required=False)
def abort_command(session: Session, transaction: str | None) -> None:
    """Abort the open transaction (or TRANSACTION): its sends are dropped and its acks undone."""
    _finish(session, "abort", transaction)


# ----------------------------------------------------------------------
# Frames


@command("receipts", short_help="Ask for a receipt for every frame sent: on [SECONDS]|off.")
@click.argument("state", type=click.Choice(["on", "off"]), required=False)
@click.argument("seconds", type=SECONDS, required=False)
@click.option("--timeout", type=SECONDS, metavar="SECONDS", help="How long to wait for each receipt (same as SECONDS).")
def receipts_command(session: Session, state: str | None, seconds: float | None, timeout: float | None) -> None:
    """With `on`, every frame sent asks for a receipt, and the command waits for it, at most SECONDS (default: the
    --receipt-timeout of `stomper repl`, 30 s). A receipt that does not come is `no receipt for N s` (exit code 3)."""
    if seconds is not None and timeout is not None:
        raise click.UsageError("receipts: give the wait once, as SECONDS or --timeout")
    if seconds is not None and state != "on":
        raise click.UsageError("receipts: SECONDS goes with `on`")
    if seconds or timeout:
        session.receipt_timeout = seconds or timeout
    if state is not None:
        session.receipts = state == "on"
    session.out.info(f"receipts {'on' if session.receipts else 'off'} (wait {session.receipt_timeout:g} s)")


def read_raw_frame(session: Session) -> bytes:
    """The lines of a typed or pasted frame, up to a line holding only `.` or up to a NUL, as bytes ending in NUL."""
    lines: list[str] = []
    while True:
        line = session.read_line()
        if line is None:
            raise click.UsageError("frame: the frame was not ended by a line holding only '.' (or a NUL)")
        line = line.rstrip("\n")
        if "\0" in line:
            lines.append(line.split("\0", 1)[0])
            break
        if line == FRAME_END:
            break
        if line or lines:  # blank lines before the command are heart-beats
            lines.append(line)
    if not lines:
        raise click.UsageError("frame: no frame was given")
    blank = lines.index("") if "" in lines else len(lines)  # the end of the headers
    text = "\n".join(lines[:blank]) + "\n\n" + "\n".join(lines[blank + 1 :])
    return text.encode("utf-8", "surrogateescape") + b"\0"


@command("frame", short_help="Type or paste a raw frame and send it as is.", epilog="""\b
Example:
  frame
  SEND
  destination:/queue/a

  hello
  .""")
def frame_command(session: Session) -> None:
    """Read a raw frame (command line, header lines, a blank line, body lines) up to a line holding only `.` or a NUL,
    check it with the frame parser and send it as is."""
    data = read_raw_frame(session)
    version = session.conn.version if session.connected else "1.2"
    parser = FrameParser(version)
    frames = parser.feed(data)
    parser.close()
    if len(frames) != 1:
        raise ReplError(f"frame: expected one frame, found {len(frames)}")
    problem = version_problem(frames[0], version)
    if problem:
        session.out.info(f"note: {problem}; sending it anyway")
    conn = session.require()
    receipt_id = conn.send_frame(frames[0], **session.receipt_args())
    session.out.info(f"sent {last_out(session, frames[0].command)} ({frames[0].command}){receipt_note(receipt_id)}")


def _summary(entry) -> str:
    frame = entry.frame
    shown = ("destination", "id", "subscription", "message-id", "transaction", "receipt", "receipt-id", "version", "session", "message")
    parts = [f"{name}={frame.headers[name]}" for name in shown if name in frame.headers]
    if frame.body:
        preview = frame.body[:40].decode("utf-8", "replace").replace("\n", "\\n")
        parts.append(f"body={preview!r}" + ("..." if len(frame.body) > 40 else ""))
    arrow = "<<<" if entry.direction == "in" else ">>>"
    return f"#{entry.number:<4} {arrow} {frame.command:<11} {' '.join(parts)}".rstrip()


@command("history", short_help="List the frames of this session, in and out.")
@click.argument("last", type=click.IntRange(min=1), required=False)
@click.option("--full", is_flag=True, help="Show each frame as `stomper unpack` does.")
def history_command(session: Session, last: int | None, full: bool) -> None:
    """List the frames seen this session (the LAST ones only, if given): number, direction, command and key headers.
    `show N` shows frame N whole."""
    entries = list(session.history)[-last:] if last else list(session.history)
    if not entries:
        session.out.info("no frames yet")
    for entry in entries:
        if full:
            session.out.frame(entry.frame, f"{'<<<' if entry.direction == 'in' else '>>>'} #{entry.number}")
        else:
            session.out.text(_summary(entry))


@command("show", short_help="Show frames from the history, as `stomper unpack` does.")
@click.argument("numbers", nargs=-1, type=int)
def show_command(session: Session, numbers: tuple[int, ...]) -> None:
    """Show frames NUMBERS (default: the last one; negative numbers count from the end) exactly as `stomper unpack` renders them."""
    for number in numbers or (-1,):
        session.out.frame(session.entry(number).frame)


def write_private(path: str, data: bytes) -> None:
    """Write `data` to `path`, created with mode 0600 whatever the umask (an existing file keeps its mode)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


@command("save", short_help="Write this session's frames to a file as a raw stream.")
@click.argument("file", type=click.Path(dir_okay=False))
def save_command(session: Session, file: str) -> None:
    """Write the frames seen this session, in and out, to FILE as raw STOMP (read it with `stomper unpack FILE`).

    A new FILE is created readable by its owner only (0600): it holds the
    message bodies. The passcode of CONNECT is saved as ***. Heart-beats are
    not saved.
    """
    entries = list(session.history)
    write_private(file, b"".join(entry.frame.encode(entry.version) for entry in entries))
    session.out.info(f"saved {len(entries)} frames to {file}")


# ----------------------------------------------------------------------
# Session


@command("wait", short_help="Wait for messages to arrive (for scripts).")
@click.argument("seconds", type=Seconds(), required=False)
@click.option("-n", "--count", type=click.IntRange(min=1), help="Wait for N messages (counted since the previous wait).")
def wait_command(session: Session, seconds: float | None, count: int | None) -> None:
    """Wait until nothing arrived for SECONDS (default 1), or with --count until N messages arrived since the previous
    `wait` (SECONDS, default 10, then bounds the silence: fewer than N is a failure, exit code 4)."""
    if seconds is None:
        seconds = 10.0 if count else 1.0
    got = session.wait(seconds, count)
    session.out.info(f"{got} message{'s' if got != 1 else ''} arrived")


@command("connect", short_help="Connect (again), renewing the subscriptions.")
def connect_command(session: Session) -> None:
    """Connect with the options `stomper repl` was started with, and renew the session's subscriptions."""
    session.connect()


@command("disconnect", short_help="Disconnect from the broker.")
def disconnect_command(session: Session) -> None:
    """Send DISCONNECT and close. The session, its history and its subscriptions stay (`connect` renews them)."""
    session.disconnect()


@command("status", short_help="Show the connection and session state.")
def status_command(session: Session) -> None:
    """Show the connection (URL, STOMP version, heart-beats, session, server), the subscriptions and the transaction."""
    conn = session.conn
    lines = []
    if session.connected:
        send_every, receive_every = conn.heart_beats
        lines += [
            f"connected:     {conn.url}",
            f"version:       STOMP {conn.version}",
            f"heart-beats:   {send_every},{receive_every} ms (client sends, broker sends; 0 is off)",
            f"session:       {conn.session or '-'}",
            f"server:        {conn.server or '-'}",
        ]
    else:
        lines.append("connected:     no (use `connect`)")
    subscriptions = [f"{sub_id} -> {spec.destination} (ack {spec.ack})" for sub_id, spec in session.subscriptions.items()]
    lines.append("subscriptions: " + ("; ".join(subscriptions) or "none"))
    lines.append(f"transaction:   {session.transaction or 'none'}")
    lines.append(f"receipts:      {'on' if session.receipts else 'off'} (wait {session.receipt_timeout:g} s)")
    lines.append(f"unacked:       {len(session.unacked())} (messages awaiting ack or nack)")
    lines.append(f"frames:        {len(session.history)} ({len(session.messages())} messages received)")
    session.out.text("\n".join(lines))


@command("help", short_help="List the commands, or explain one.")
@click.argument("name", required=False)
def help_command(session: Session, name: str | None) -> None:
    """List the commands, or show the help of command NAME."""
    if name:
        cmd = lookup(name)
        session.out.text(cmd.get_help(click.Context(cmd, info_name=cmd.name)))
        return
    rows = []
    for cmd_name, cmd in COMMANDS.items():
        usage = " ".join(cmd.collect_usage_pieces(click.Context(cmd, info_name=cmd_name)))
        usage = usage.replace("[OPTIONS]", "[opts]")
        rows.append((f"{cmd_name} {usage}".strip(), cmd.get_short_help_str(80)))
    width = max(len(left) for left, _ in rows)
    text = ["Commands (`help COMMAND` for details; `<<` after send reads body lines up to a lone `.`):"]
    text += [f"  {left:<{width}}  {right}" for left, right in rows]
    session.out.text("\n".join(text))


@command("quit", short_help="End the session (also: exit, Ctrl-D).")
def quit_command(session: Session) -> None:
    """Disconnect and leave."""
    raise QuitSession()


# ----------------------------------------------------------------------
# Running command lines


def execute(session: Session, line: str, more: Callable[[], str | None] | None = None) -> bool:
    """Run one command line; False when the session should end. Errors are printed, never raised.

    `more` gives the next input line to commands that read several (a
    here-document body, a raw frame).
    """
    session.more_lines = more or (lambda: None)
    line = line.strip()
    if not line or line.startswith("#"):
        return True
    try:
        run_command(session, *split_line(line, session.read_line))
    except QuitSession:
        return False
    except KeyboardInterrupt:
        session.out.error("interrupted")
    except Exception as error:  # noqa: BLE001 - every failure is one line, the session goes on
        session.report(error)
    return True


def split_line(line: str, read_line: Callable[[], str | None]) -> tuple[str, list[str], str | None]:
    """(command, arguments, here-document body or None) from a command line.

    A line ending in `<<` (or `<<WORD`) continues with body lines up to a
    line holding only `.` (or WORD); they are joined with newlines.
    """
    heredoc = None
    match = _HEREDOC.search(line)
    if match:
        terminator = match.group(1) or "."
        line = line[: match.start()]
        lines = []
        while True:
            body_line = read_line()
            if body_line is None:
                raise click.UsageError(f"the body was not ended by a line holding only {terminator!r}")
            body_line = body_line.rstrip("\r\n")
            if body_line == terminator:
                break
            lines.append(body_line)
        heredoc = "\n".join(lines)
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise click.UsageError(f"cannot parse the line: {error}") from None
    if not words:
        raise click.UsageError("a here-document needs a command before <<")
    return words[0], words[1:], heredoc


def run_script(session: Session, lines: Iterable[str], source: str, exit_on_error: bool = False) -> int:
    """Run command lines in order without a prompt; returns the exit code of the first failure (0 if none)."""
    iterator = iter(lines)
    number = 0

    def next_line() -> str | None:
        nonlocal number
        line = next(iterator, None)
        if line is not None:
            number += 1
        return line

    while (line := next_line()) is not None:
        before = session.exit_code
        session.out.error_prefix = f"stomper: error: {source}:{number}: "
        if not execute(session, line, next_line):
            break
        if exit_on_error and session.exit_code and not before:
            break
    session.out.error_prefix = "stomper: error: "
    session.close()
    return session.exit_code


# ----------------------------------------------------------------------
# What the persistent history keeps

#: Options whose values stay out of the history: bodies, and headers (which may carry tokens).
UNRECORDED_OPTIONS = frozenset({"--body", "-H", "--header"})


def history_form(line: str) -> str | None:
    """`line` as the persistent history keeps it: the command words without inline bodies or header values.

    `send DEST words...` keeps `send DEST`; `--body TEXT` and `-H name:value`
    (any command) are dropped whole; a trailing `<<` stays (its body lines
    never reach the history). None for a line not worth keeping (a comment).
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    heredoc = _HEREDOC.search(line)
    marker = f" <<{heredoc.group(1)}" if heredoc else ""
    if heredoc:
        line = line[: heredoc.start()]
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()[:1]  # unbalanced quotes: where a body starts is unknown, keep the command alone
    if not words:
        return None
    cmd = COMMANDS.get(ALIASES.get(words[0], words[0]))
    if cmd is None:
        return words[0]
    return shlex.join([words[0], *_recorded_arguments(cmd, words[1:])]) + marker


def _recorded_arguments(cmd: click.Command, words: list[str]) -> list[str]:
    """The arguments of `cmd` worth recalling: options (minus UNRECORDED_OPTIONS, with their values) and positionals,
    but for `send` only its destination (the remaining words are the body)."""
    kept: list[str] = []
    positionals = 0
    remaining = iter(words)
    for word in remaining:
        name, attached = _option_name(cmd, word)
        option = option_named(cmd, name) if name else None
        if option is None:
            positionals += 1
            if not (cmd.name == "send" and positionals > 1):
                kept.append(word)
            continue
        value = [] if option.is_flag or attached else [next(remaining, "")]
        if name not in UNRECORDED_OPTIONS:
            kept += [word, *value]
    return kept


def _option_name(cmd: click.Command, word: str) -> tuple[str | None, bool]:
    """(option name, whether its value is attached) for `--name=value`, `-Xvalue`, `--name` or `-X`; (None, False)
    for a word that is not an option."""
    if not word.startswith("-") or word == "-":
        return None, False
    if word.startswith("--"):
        name = word.split("=", 1)[0]
        return name, name != word
    if len(word) > 2 and option_named(cmd, word[:2]) is not None:
        return word[:2], True
    return word, False


def option_named(cmd: click.Command, name: str) -> click.Option | None:
    """The option of `cmd` called `name` (e.g. -H or --header), or None."""
    for param in cmd.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None
