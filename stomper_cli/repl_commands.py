"""The REPL's commands, one small Click command each, run against a `Session`.

Click parses each command line (after `shlex` split it), so options, choices
and `help COMMAND` work as in the CLI, and a bad command line is a Click
UsageError (exit code 2 in a scripted run). `COMMANDS` is also what the
prompt's completer offers.
"""

from __future__ import annotations

from pathlib import Path

import click

from stomper import FrameParser
from stomper.commands import ACK_MODES

from .options import header_option
from .repl_session import ReplError, Session, SubscriptionSpec

COMMANDS: dict[str, click.Command] = {}
ALIASES = {"exit": "quit", "?": "help"}
#: What `frame` reads until (besides a NUL).
FRAME_END = "."
_CONTEXT = {"help_option_names": ["-h", "--help"]}


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
        raise click.UsageError(f"unknown command {name!r} (type `help` for the list)")
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
        from stomper.commands import next_id

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
    if sub_id is not None and sub_id in session.subscriptions:
        raise ReplError(f"subscription id {sub_id!r} is in use")
    conn = session.require()
    sub_id = conn.subscribe(destination, ack=ack, id=sub_id, headers=dict(headers), **session.receipt_args())
    session.subscriptions[sub_id] = SubscriptionSpec(destination, ack, dict(headers))
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
    if not session.connected:
        del session.subscriptions[sub_id]
        session.out.info(f"forgot {sub_id} (not connected: it will not be renewed)")
        return
    session.conn.unsubscribe(sub_id, **session.receipt_args())
    del session.subscriptions[sub_id]
    session.out.info(f"unsubscribed {sub_id}")


def _acknowledge(session: Session, what: str, message: str | None) -> None:
    entry = session.find_message(message)
    conn = session.require()
    deferred = deferred_receipt(session)
    if deferred:
        from stomper import commands

        build = commands.ack if what == "ack" else commands.nack
        conn.send_frame(build(entry.frame, transaction=session.transaction, receipt=deferred, version=conn.version))
    else:
        getattr(conn, what)(entry.frame, transaction=session.transaction, **session.receipt_args())
    where = f" in transaction {session.transaction}" if session.transaction else ""
    session.out.info(f"{what}ed #{entry.number} (message-id {entry.frame.headers.get('message-id', '?')}){where}{receipt_note(None, deferred)}")


@command("ack", short_help="Acknowledge a message (default: the last one).")
@click.argument("message", required=False)
def ack_command(session: Session, message: str | None) -> None:
    """Acknowledge MESSAGE: its message-id, or its number in the history (`#5` or `5`); default the last message received.

    Inside a transaction the ACK carries it.
    """
    _acknowledge(session, "ack", message)


@command("nack", short_help="Refuse a message (default: the last one).")
@click.argument("message", required=False)
def nack_command(session: Session, message: str | None) -> None:
    """Refuse MESSAGE (STOMP 1.1 and 1.2): its message-id or history number; default the last message received.

    RabbitMQ redelivers a refused message; ActiveMQ moves it to its dead-letter queue.
    """
    _acknowledge(session, "nack", message)


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


@command("receipts", short_help="Ask for a receipt for every frame sent: on|off.")
@click.argument("state", type=click.Choice(["on", "off"]), required=False)
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help="How long to wait for each receipt.")
def receipts_command(session: Session, state: str | None, timeout: float | None) -> None:
    """With `on`, every frame sent asks for a receipt, and the command waits for it (5 s by default) and reports it."""
    if timeout is not None:
        session.receipt_timeout = timeout
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
    from stomper.rules import version_problem

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


@command("save", short_help="Write this session's frames to a file as a raw stream.")
@click.argument("file", type=click.Path(dir_okay=False))
def save_command(session: Session, file: str) -> None:
    """Write the frames seen this session, in and out, to FILE as raw STOMP (read it with `stomper unpack FILE`).

    The passcode of CONNECT is saved as ***. Heart-beats are not saved.
    """
    entries = list(session.history)
    Path(file).write_bytes(b"".join(entry.frame.encode(entry.version) for entry in entries))
    session.out.info(f"saved {len(entries)} frames to {file}")


# ----------------------------------------------------------------------
# Session


@command("wait", short_help="Wait for messages to arrive (for scripts).")
@click.argument("seconds", type=click.FloatRange(min=0), required=False)
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
    lines.append(f"receipts:      {'on' if session.receipts else 'off'}")
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
