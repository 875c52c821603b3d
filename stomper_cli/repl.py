"""`stomper repl`: an interactive STOMP session against a broker, or a script of its commands.

The command is thin: the session logic is in `repl_session` and
`repl_commands`, the prompt in `repl_prompt`.
"""

from __future__ import annotations

import sys
from typing import IO

import click

from .app import get_settings
from .options import ConnectionParams, Seconds, connection_options


@click.command(epilog="""\b
Examples:
  stomper repl --url stomp://guest:guest@localhost:61613
  stomper repl --file session.stomp
  printf 'subscribe /queue/a\\nsend /queue/a hi\\nwait --count 1\\n' | stomper repl

\b
Scripted runs exit with the code of the first failure:
  1  the broker sent ERROR, or a command could not be done (bad raw frame, no such message...)
  2  a bad command line (unknown command, bad option, missing argument)
  3  could not connect, or the connection was lost (or a receipt did not come: `no receipt for N s`)
  4  `wait --count N` saw fewer than N messages""")
@click.option("-f", "--file", "script", type=click.File("r"), metavar="SCRIPT|-",
              help="Run the commands in SCRIPT (- for stdin) without a prompt, then exit. Also done when stdin is not a terminal.")
@click.option("-e", "--exit-on-error", is_flag=True, help="In a script, stop at the first failed command.")
@click.option("--no-connect", is_flag=True, help="Start without connecting (then use `connect`).")
@click.option("--receipt-timeout", type=Seconds(0.001), metavar="SECONDS",
              help="With `receipts on`, how long to wait for each receipt (default 30).")
@connection_options
def repl(script: IO[str] | None, exit_on_error: bool, no_connect: bool, receipt_timeout: float | None, conn_params: ConnectionParams) -> None:
    """An interactive STOMP session: send, subscribe, ack, transactions, raw frames, history.

    Frames arriving from the broker are printed above the prompt as they
    come. Type `help` for the commands. Tab completes commands, options,
    destinations and subscription ids; the command history is kept in
    $XDG_STATE_HOME/stomper/repl_history (~/.local/state/stomper/...).
    """
    # Imported here, not at the top: `stomper --help` loads this module to list it, and must stay light.
    from .repl_commands import run_script
    from .repl_prompt import run_interactive
    from .repl_session import Output, Session

    settings = get_settings()
    options = {} if receipt_timeout is None else {"receipt_timeout": receipt_timeout}
    session = Session(conn_params, Output(settings.color), verbose=settings.verbose, **options)
    if script is None and sys.stdin.isatty():
        run_interactive(session, connect=not no_connect)
        return
    session.out.error_prefix = "stomper: error: "
    if not no_connect:
        try:
            session.connect()
        except Exception as error:  # noqa: BLE001 - reported as one line; the script goes on
            session.report(error)
    if script is None:
        script = sys.stdin
    source = "<stdin>" if script is sys.stdin or script.name == "<stdin>" else script.name
    code = run_script(session, script, source, exit_on_error=exit_on_error)
    if code:
        raise click.exceptions.Exit(code)
