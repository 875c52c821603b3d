"""`stomper profile list|show NAME`: the connection profiles of the config file, passcodes masked.

The config code (stomper_cli.profiles) is imported when a subcommand runs,
not with this module: `stomper --help` loads this module to list it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import config_option


def _profiles(config: str | None) -> tuple[dict[str, dict[str, Any]], Path]:
    from .profiles import ProfileError, config_path, load_profiles

    path = config_path(config)
    try:
        return load_profiles(path, required=config is not None), path
    except ProfileError as error:
        raise click.UsageError(str(error)) from None


@click.group()
def profile() -> None:
    """Show the connection profiles of the config file."""


@profile.command("list")
@config_option
def list_profiles(config: str | None) -> None:
    """List the profile names, one a line."""
    profiles, path = _profiles(config)
    if not profiles:
        click.echo(f"no profiles in {path}", err=True)
    for name in profiles:
        click.echo(name)


@profile.command("show")
@click.argument("name")
@config_option
def show_profile(name: str, config: str | None) -> None:
    """Show the settings of profile NAME (the passcode masked)."""
    from .profiles import shown

    profiles, path = _profiles(config)
    if name not in profiles:
        raise click.UsageError(f"no profile {name!r} in {path} (profiles: {', '.join(sorted(profiles)) or 'none'})")
    for key, value in shown(profiles[name]):
        click.echo(f"{key} = {value}")
