"""The stomper group: exit codes, error reporting, lazy imports, colour, terminals, completions."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import click
import pytest
from cli_helpers import STOMPER, assert_one_error_line, read_terminal, run
from click.testing import CliRunner

from stomper import Frame
from stomper.url import MASK
from stomper_cli import completions
from stomper_cli.app import SUBCOMMANDS, SUMMARIES, Settings, cli, terminal_columns

LOADED_AT_EXIT = """
import atexit, sys
def report():
    heavy = sorted(name for name in sys.modules if name.split('.')[0] in ('rich', 'prompt_toolkit', 'tomllib')
                   or name in ('stomper.connection', 'stomper_cli.profiles'))
    sys.__stderr__.write('HEAVY=' + ','.join(heavy) + '\\n')
atexit.register(report)
from stomper_cli.app import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize(
    "args",
    [["pack", "SEND", "-H", "destination:/q", "--body", "x"], ["unpack", "--json"], ["unpack"], ["pack", "--json"], ["--help"],
     ["subscribe", "--help"]],
)
def test_pack_and_unpack_do_not_import_rich_the_connection_or_the_config_code(args):
    stdin = Frame("SEND", {"destination": "/q"}, b"x").encode() if args[0] == "unpack" else b'{"command": "SEND"}\n'
    result = subprocess.run([sys.executable, "-c", LOADED_AT_EXIT, *args], input=stdin, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines()[-1] == "HEAVY="


LOADED_BY = """
import atexit, sys
atexit.register(lambda: sys.__stderr__.write('LOADED=' + ','.join(sorted(set(sys.argv[1].split(',')) & set(sys.modules))) + '\\n'))
from stomper_cli.app import main
main(sys.argv[2:])
"""


def test_help_lists_the_subcommands_without_importing_them():
    modules = ",".join(target.partition(":")[0] for target in SUBCOMMANDS.values())
    result = subprocess.run([sys.executable, "-c", LOADED_BY, modules, "--help"], capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines()[-1] == "LOADED="
    assert all(f"  {name} " in result.stdout.decode() for name in SUBCOMMANDS)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_summary_is_what_the_subcommand_itself_shows_at_every_width(name):
    assert SUBCOMMANDS.keys() == SUMMARIES.keys()
    command = cli.get_command(click.Context(cli), name)
    for limit in range(3, 160):
        assert click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit) == command.get_short_help_str(limit), limit


@pytest.mark.parametrize("args", [["pack", "SEND", "--body", "x"], ["unpack"], ["subscribe", "--help"]])
def test_start_up_loads_no_module_that_only_some_paths_need(args):
    # logging: the classic Engine; shutil: Click's width lookup; difflib: typo suggestions (Click loads it for
    # any short option, so none is given here); json: JSON Lines.
    unwanted = "logging,stomper.engine,shutil,difflib,json,stomper_cli.jsonlines"
    stdin = Frame("SEND", {"destination": "/q"}, b"x").encode()
    result = subprocess.run([sys.executable, "-c", LOADED_BY, unwanted, *args], input=stdin, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines()[-1] == "LOADED="


def test_help_lists_commands_and_exit_codes():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for word in ("pack", "unpack", "send", "subscribe", "Exit codes:", "--color", "--verbose", "--debug"):
        assert word in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "stomper" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"], ["--color", "purple", "pack"], ["subscribe"], ["send"],
        ["subscribe", "/q", "--json", "--raw"], ["pack", "SEND", "--stomp-version", "2.0"],
    ],
)
def test_usage_errors_exit_2_with_one_line(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("stomper: error: ")
    assert "--help" in result.stderr


def test_unexpected_errors_are_one_line_without_debug_and_a_traceback_with_it(monkeypatch):
    import stomper_cli.pack as pack_module

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pack_module, "write_frames", explode)
    result = CliRunner().invoke(cli, ["pack", "--json"], input="")
    assert result.exit_code == 1
    assert result.stderr == "stomper: error: internal error: RuntimeError: boom (run with --debug for the traceback)\n"
    result = CliRunner().invoke(cli, ["--debug", "pack", "--json"], input="")
    assert result.exit_code == 1 and "Traceback" in result.stderr and "RuntimeError: boom" in result.stderr


def test_debug_traceback_for_bad_input():
    result = run("--debug", "unpack", input=b"JUNK\n\n\0")
    assert result.returncode == 1 and b"Traceback" in result.stderr
    assert_one_error_line(run("unpack", input=b"JUNK\n\n\0"), 1)


def test_closed_pipe_is_quiet():
    """`stomper unpack | head -1`: no error message, exit 1 (as Click does)."""
    frames = b"".join(Frame("SEND", {"destination": "/q"}, b"x" * 100).encode() for _ in range(20000))
    unpack = subprocess.Popen([*STOMPER, "unpack", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    unpack.stdin.write(frames[:1000])
    unpack.stdin.flush()
    head = unpack.stdout.readline()
    unpack.stdout.close()
    _, stderr = unpack.communicate(frames[1000:], timeout=60)
    assert head.startswith(b'{"command": "SEND"')
    assert stderr == b"" and unpack.returncode == 1


def test_color_always_in_a_pipe_uses_rich():
    raw = Frame("SEND", {"destination": "/q", "content-type": "application/json"}, b'{"a": [1, 2]}').encode()
    result = run("--color", "always", "unpack", input=raw)
    assert b"\x1b[" in result.stdout
    assert b"\x1b[" not in run("unpack", input=raw).stdout


def run_in_terminal(args: list[str], stdin: bytes, env: dict | None = None) -> bytes:
    """Run stomper with stdout on a pseudo-terminal; return what it printed."""
    controller, terminal = pty.openpty()
    full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", **(env or {})}
    full_env.pop("NO_COLOR", None) if "NO_COLOR" not in (env or {}) else None
    process = subprocess.Popen([*STOMPER, *args], stdin=subprocess.PIPE, stdout=terminal, stderr=subprocess.PIPE, env=full_env)
    os.close(terminal)
    process.stdin.write(stdin)
    process.stdin.close()
    output = read_terminal(controller)
    process.wait(timeout=30)
    os.close(controller)
    assert process.returncode == 0, process.stderr.read()
    return output


def test_terminal_rendering_is_rich_and_coloured():
    raw = (
        Frame("CONNECT", {"login": "me", "passcode": "hunter2"}).encode()
        + Frame("MESSAGE", {"destination": "/q", "message-id": "1", "subscription": "s", "content-type": "application/json"}, b'{"k": "v"}').encode()
        + Frame("ERROR", {"message": "bad"}, b"\x00\xff").encode()
    )
    output = run_in_terminal(["unpack"], raw)
    assert b"\x1b[" in output
    text = output.decode()
    assert "hunter2" not in text and MASK in text and MASK + "*" not in text
    assert '"k"' in text and "00000000" in text


def test_no_color_on_a_terminal_keeps_the_layout_without_colour():
    raw = Frame("SEND", {"destination": "/q"}, b"hi").encode()
    output = run_in_terminal(["unpack"], raw, env={"NO_COLOR": "1"})
    assert b"\x1b[3" not in output and b"SEND" in output and b"destination" in output


def test_committed_completions_are_current():
    stale = completions.stale_files()
    assert not stale, f"regenerate with: python -m stomper_cli.completions ({', '.join(map(str, stale))})"


def test_completion_scripts_complete_subcommands_and_options():
    env = {**os.environ, "_STOMPER_COMPLETE": "bash_complete", "COMP_WORDS": "stomper subscribe --a", "COMP_CWORD": "2"}
    result = subprocess.run([*STOMPER], env=env, capture_output=True, text=True)
    assert "plain,--ack" in result.stdout.splitlines()


def test_the_group_settings_live_on_the_click_context_and_decide_how_errors_are_reported():
    settings = Settings()
    result = CliRunner().invoke(cli, ["--debug", "--color", "never", "pack", "--json"], input="{\n", obj=settings)
    assert result.exit_code == 1
    assert (settings.debug, settings.verbose, settings.color) == (True, True, "never")
    assert "Traceback" in result.stderr and result.stderr.endswith("\n") and "stomper: error: line 1" in result.stderr
    quiet = CliRunner().invoke(cli, ["pack", "--json"], input="{\n")
    assert quiet.exit_code == 1 and "Traceback" not in quiet.stderr and quiet.stderr.count("\n") == 1


@pytest.mark.parametrize(("columns", "expected"), [("60", 60), ("", 80), ("wide", 80), ("-5", 80)])
def test_help_is_wrapped_to_columns_as_shutil_reads_them(monkeypatch, columns, expected):
    def no_terminal(fd: int) -> os.terminal_size:
        raise OSError("not a terminal")

    # As in a pipe, however pytest itself was started: 80 unless COLUMNS says otherwise.
    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    monkeypatch.setenv("COLUMNS", columns)
    assert terminal_columns() == expected
    result = CliRunner().invoke(cli, ["subscribe", "--help"])
    wrapped = [line for line in result.output.splitlines() if not line.startswith("    stomper ")]  # examples are kept whole
    assert max(len(line) for line in wrapped) <= expected
