"""The `stomper` Click group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from stomper import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="stomper")
def cli() -> None:
    """stomper: craft, inspect, send and receive STOMP frames."""


def main() -> None:
    cli()
