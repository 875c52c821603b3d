"""Generate the shell completion scripts in completions/ from the Click app.

    python -m stomper_cli.completions           # rewrite completions/*
    python -m stomper_cli.completions --check   # exit 1 if any is stale

The scripts are Click's (the same as `_STOMPER_COMPLETE=bash_source stomper`):
they call `stomper` back for the candidates, so subcommands and options
are always current; they change when Click's templates change.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: shell -> file name in completions/
SCRIPTS = {"bash": "stomper.bash", "zsh": "_stomper", "fish": "stomper.fish"}
COMPLETE_VAR = "_STOMPER_COMPLETE"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "completions"


def completion_source(shell: str) -> str:
    """The completion script for `shell`, as Click generates it."""
    from click.shell_completion import get_completion_class

    from .app import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:
        raise ValueError(f"no completion support for {shell!r}")
    source = completion_class(cli, {}, "stomper", COMPLETE_VAR).source()
    return source if source.endswith("\n") else source + "\n"


def stale_files(directory: Path = DEFAULT_DIR) -> list[Path]:
    """The scripts in `directory` that differ from what Click generates now."""
    stale = []
    for shell, name in SCRIPTS.items():
        path = directory / name
        if not path.exists() or path.read_text() != completion_source(shell):
            stale.append(path)
    return stale


def write_all(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for shell, name in SCRIPTS.items():
        path = directory / name
        path.write_text(completion_source(shell))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--check"]:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path} (run: python -m stomper_cli.completions)", file=sys.stderr)
        return 1 if stale else 0
    if args:
        print("usage: python -m stomper_cli.completions [--check]", file=sys.stderr)
        return 2
    for path in write_all():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
