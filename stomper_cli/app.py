"""The `stomper` Click group: global options, lazy subcommands, and the one place errors become exit codes.

Subcommands live one per module and are imported only when run, so
`stomper pack` and `stomper unpack --json` never load Rich or the
connection code, and `stomper --help` lists them from `SUMMARIES`. To add a
subcommand, add its name to `SUBCOMMANDS` with "module:function", and its
help's first sentence to `SUMMARIES`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from stomper import __version__

from .errors import Interrupted, classify, mask, nearest

SUBCOMMANDS = {
    "pack": "stomper_cli.pack:pack",
    "unpack": "stomper_cli.unpack:unpack",
    "send": "stomper_cli.send:send",
    "subscribe": "stomper_cli.subscribe:subscribe",
    "repl": "stomper_cli.repl:repl",
    "request": "stomper_cli.request:request",
    "reply": "stomper_cli.reply:reply",
    "profile": "stomper_cli.profile:profile",
    "bench": "stomper_cli.bench:bench",
}

#: The first sentence of each subcommand's help, for `stomper --help` to list without importing the subcommand
#: (tests/cli/test_app.py keeps each equal to what the command itself would show).
SUMMARIES = {
    "pack": "Write a raw STOMP frame to stdout.",
    "unpack": "Show every frame of a raw STOMP stream read from FILE (default stdin).",
    "send": "Send a message to DESTINATION.",
    "subscribe": "Subscribe to each DESTINATION and write the messages to stdout.",
    "repl": "An interactive STOMP session: send, subscribe, ack, transactions, raw frames, history.",
    "request": "Send BODY to DESTINATION as a request and write the answer(s).",
    "reply": "Answer the requests on DESTINATION with the output of COMMAND.",
    "profile": "Show the connection profiles of the config file.",
    "bench": "Measure a broker: --pub publishers and --sub subscribers at once, in several processes.",
}

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  the broker sent ERROR, or input data was malformed
  2  usage error
  3  could not connect, or the connection was lost
  4  --timeout expired before --count messages arrived
  130  interrupted (Ctrl-C)
"""


class Settings:
    """The group options, available to every subcommand as `get_settings()`."""

    __slots__ = ("color", "verbose", "debug")

    def __init__(self, color: str = "auto", verbose: bool = False, debug: bool = False) -> None:
        self.color = color
        self.verbose = verbose
        self.debug = debug


def get_settings() -> Settings:
    """The current invocation's Settings (defaults outside of a Click context)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Settings) if ctx is not None else None
    return found or Settings()


COLOR_CHOICES = ("auto", "always", "never")
COLOR_HELP = "Colour output: auto is on for terminals and off in pipes or when NO_COLOR is set."
VERBOSE_HELP = "Say more: frames sent and received, error details (passcodes masked)."
DEBUG_HELP = "Like --verbose, and show a Python traceback on errors."


def _set_late_global(ctx: click.Context, param: click.Parameter, value: str | bool | None) -> None:
    """A group option given after the subcommand's name: it sets the same Settings as before it."""
    settings = ctx.find_object(Settings)
    if settings is None or value is None or value is False:
        return
    if param.name == "color":
        settings.color = str(value)
    else:
        settings.verbose = True
        settings.debug = settings.debug or param.name == "debug"


def _late_global_options() -> list[click.Option]:
    """The group's -v, --debug and --color, for the subcommands (eager: they decide how any later error is reported)."""
    late = {"expose_value": False, "is_eager": True, "callback": _set_late_global}
    return [
        click.Option(["--color"], type=click.Choice(COLOR_CHOICES), help=COLOR_HELP, **late),
        click.Option(["-v", "--verbose"], is_flag=True, help=VERBOSE_HELP, **late),
        click.Option(["--debug"], is_flag=True, help=DEBUG_HELP, **late),
    ]


def accept_global_options(command: click.Command) -> None:
    """Let `command` (and a group's subcommands) take the global options too: `stomper send -v ...` = `stomper -v send ...`."""
    taken = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    command.params.extend(option for option in _late_global_options() if not taken & {*option.opts, *option.secondary_opts})
    for subcommand in getattr(command, "commands", {}).values():
        accept_global_options(subcommand)


class StomperGroup(click.Group):
    """A group that imports each subcommand on first use and maps every failure to an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*SUBCOMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        accept_global_options(command)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the subcommands as Click would, from SUMMARIES (a subcommand already imported speaks for itself)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, self._summary(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _summary(self, name: str, limit: int) -> str:
        command = self.commands.get(name) or click.Command(name, help=SUMMARIES[name])
        return command.get_short_help_str(limit)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the group's options; a subcommand's option put before the subcommand says where it goes."""
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            misplaced = self._misplaced_option(ctx, args, error.option_name)
            if misplaced is not None:
                raise misplaced from None
            raise

    def _misplaced_option(self, ctx: click.Context, args: list[str], option: str) -> click.UsageError | None:
        """`--url goes after the command: stomper send --url ...` when the named subcommand has `option`; else None."""
        name = next((arg for arg in args if arg in SUBCOMMANDS or arg in self.commands), None)
        command = self.get_command(ctx, name) if name is not None else None
        if command is None or not any(option in (*param.opts, *param.secondary_opts) for param in command.params):
            return None
        return click.UsageError(f"{option} goes after the command: stomper {name} {option} ...", ctx)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the subcommand; a mistyped name is answered with the nearest one."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            suggestion = nearest(args[0], self.list_commands(ctx)) if args and not args[0].startswith("-") else None
            if suggestion is not None:
                error.message = f"{error.message} Did you mean {suggestion}?"
            raise

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:  # type: ignore[override]
        if parent is None:
            extra.setdefault("terminal_width", terminal_columns())  # subcommands' contexts inherit it
        with _past_click():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _past_click():
            return super().invoke(ctx)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        """Run; report any failure as one line on stderr (a traceback only with --debug).

        The group's Settings object is made here and given to Click as the
        root context's `obj`: the group fills it in, subcommands find it in
        their context, and it outlives the context to say how to report.
        """
        settings = extra.setdefault("obj", Settings())
        try:
            code = super().main(args, prog_name or "stomper", complete_var, standalone_mode=False, **extra)
            code = code if isinstance(code, int) else 0
        except click.exceptions.Exit as done:
            code = done.exit_code
        except BrokenPipeError:
            code = _quiet_broken_pipe()
        except (Exception, KeyboardInterrupt, click.Abort) as error:  # noqa: B902 - this is the one reporting place
            code = report(error, settings if isinstance(settings, Settings) else Settings())
        if standalone_mode:
            sys.exit(code)
        return code


def terminal_columns() -> int:
    """The terminal's width, as `shutil.get_terminal_size` gives it (COLUMNS, then stdout's terminal, else 80).

    Click asks shutil when no width is set, and importing shutil (with bz2
    and lzma) adds a few milliseconds to every `--help`.
    """
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


@contextlib.contextmanager
def _past_click() -> Iterator[None]:
    """Carry Ctrl-C past Click as Interrupted: Click would print a blank line for it before our one error line."""
    try:
        yield
    except KeyboardInterrupt as error:
        raise Interrupted() from error


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (`| head`): stop quietly with 1, as Click itself does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 1


def report(error: BaseException, settings: Settings | None = None) -> int:
    """Write the one stderr line for `error` (plus detail under --verbose, traceback under --debug); return the exit code."""
    settings = settings or Settings()
    code, message, detail = classify(error)
    if settings.debug:
        import traceback

        sys.stderr.write(mask("".join(traceback.format_exception(error))))
    sys.stderr.write(mask(f"stomper: error: {message}") + "\n")
    if detail and (settings.verbose or settings.debug):
        sys.stderr.write(mask(detail.rstrip("\n")) + "\n")
    sys.stderr.flush()
    return code


@click.group(cls=StomperGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="stomper")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True, help=COLOR_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.pass_context
def cli(ctx: click.Context, color: str, verbose: bool, debug: bool) -> None:
    """stomper: craft, inspect, send and receive STOMP frames.

    The options here (--color, -v, --debug) may also follow the command's name.

    \b
    stomper pack SEND -H destination:/queue/a --body hi | stomper unpack
    stomper send /queue/a 'hello'
    stomper subscribe /queue/a -n 1
    """
    settings = ctx.ensure_object(Settings)
    settings.color, settings.verbose, settings.debug = color, verbose or debug, debug


def main(args: list[str] | None = None) -> int:
    """The console-script entry point; exits with the command's exit code."""
    return cli.main(args=args, prog_name="stomper")
