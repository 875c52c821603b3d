"""The REPL's interactive prompt: prompt_toolkit with persistent history, Tab completion and output above the prompt.

`patch_stdout(raw=True)` routes every write to stdout and stderr (the reader
thread's arriving frames included) through prompt_toolkit, which prints it
above the prompt and redraws the line being typed, colours intact.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import click
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from .repl_commands import ALIASES, COMMANDS, PRIVATE_FILE_MODE, execute, history_form, option_named
from .repl_session import Session


def history_path() -> Path:
    """`$XDG_STATE_HOME/stomper/repl_history`, or `~/.local/state/stomper/repl_history`."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "stomper" / "repl_history"


#: The history's folder, when stomper creates it: only its owner may enter it.
PRIVATE_DIR_MODE = 0o700


class PrivateHistory(FileHistory):
    """The persistent history: a file only its owner can read, holding command words, never bodies or header values.

    The lines typed in this run are recalled whole (Up arrow); what reaches
    the file is `history_form` of each, since message bodies and headers
    may hold secrets that must not outlive the session on disk.
    """

    def store_string(self, string: str) -> None:
        recorded = history_form(string)
        if recorded is not None:
            super().store_string(recorded)


def make_private_file(path: Path) -> None:
    """Create `path` (and its folder, 0700, if missing) with mode 0600 whatever the umask; tighten an existing file to 0600."""
    folder = path.parent
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=PRIVATE_DIR_MODE)
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE))
    os.chmod(path, PRIVATE_FILE_MODE)


def open_history(session: Session) -> History:
    """The persistent command history; in memory (with a note) when its file cannot be written."""
    path = history_path()
    try:
        make_private_file(path)
    except OSError as error:
        session.out.info(f"history will not be kept: {error.strerror or error}: {path}")
        return InMemoryHistory()
    return PrivateHistory(str(path))


def _option_takes_value(cmd: click.Command, name: str) -> click.Option | None:
    option = option_named(cmd, name)
    return option if option is not None and not option.is_flag else None


class ReplCompleter(Completer):
    """Completes command names, option names, option choices, and what the session has seen:
    destinations (send, subscribe), subscription ids (unsubscribe), ids of the messages awaiting an ack (ack, nack),
    file paths (save)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.paths = PathCompleter(expanduser=True)

    def candidates(self, previous: list[str], word: str) -> Iterable[str]:
        if not previous:
            return [*COMMANDS, *ALIASES]
        name = ALIASES.get(previous[0], previous[0])
        cmd = COMMANDS.get(name)
        if cmd is None:
            return []
        if word.startswith("-"):
            return [opt for param in cmd.params if isinstance(param, click.Option) for opt in (*param.opts, *param.secondary_opts)]
        option = _option_takes_value(cmd, previous[-1]) if len(previous) > 1 else None
        if option is not None:
            return list(option.type.choices) if isinstance(option.type, click.Choice) else []
        position = self._position(cmd, previous[1:])
        session = self.session
        if name in ("send", "subscribe") and position == 0:
            return session.destinations
        if name == "unsubscribe" and position == 0:
            return [*session.subscriptions, *(spec.destination for spec in session.subscriptions.values())]
        if name in ("ack", "nack") and position == 0:
            return [entry.frame.headers.get("message-id", "") for entry in session.unacked()]
        if name in ("commit", "abort") and position == 0:
            return [session.transaction] if session.transaction else []
        if name == "help" and position == 0:
            return list(COMMANDS)
        argument = next((param for param in cmd.params if isinstance(param, click.Argument)), None)
        if argument is not None and isinstance(argument.type, click.Choice) and position == 0:
            return list(argument.type.choices)
        return []

    @staticmethod
    def _position(cmd: click.Command, words: list[str]) -> int:
        """How many positional arguments precede the word being completed."""
        position = 0
        skip = False
        for word in words:
            if skip:
                skip = False
            elif word.startswith("-"):
                skip = _option_takes_value(cmd, word) is not None
            else:
                position += 1
        return position

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        word = document.get_word_before_cursor(WORD=True)
        words = text.split()
        previous = words[:-1] if word and words else words
        if previous and ALIASES.get(previous[0], previous[0]) in ("save",) and not word.startswith("-"):
            yield from self.paths.get_completions(Document(word, len(word)), complete_event)
            return
        seen = set()
        for candidate in self.candidates(previous, word):
            if candidate and candidate.startswith(word) and candidate not in seen:
                seen.add(candidate)
                yield Completion(candidate, start_position=-len(word))


def prompt_text(session: Session) -> str:
    if not session.connected:
        return "stomper (disconnected)> "
    if session.transaction:
        return f"stomper ({session.transaction})> "
    return "stomper> "


def run_interactive(session: Session, connect: bool = True) -> int:
    """The prompt loop, until `quit`, `exit` or Ctrl-D; returns 0."""
    session.interactive = True
    prompt = PromptSession(history=open_history(session), completer=ReplCompleter(session), complete_while_typing=False)
    continuation = PromptSession(history=InMemoryHistory())  # body and frame lines stay out of the history

    def more() -> str | None:
        try:
            return continuation.prompt("... ")
        except EOFError:
            return None

    with patch_stdout(raw=True):
        session.out.info("stomper repl: `help` lists the commands; `quit` or Ctrl-D leaves")
        if connect:
            try:
                session.connect()
            except Exception as error:  # noqa: BLE001 - reported as one line; `connect` may be tried again
                session.report(error)
        while True:
            try:
                line = prompt.prompt(lambda: prompt_text(session))
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if not execute(session, line, more):
                break
        session.close()
    return 0
