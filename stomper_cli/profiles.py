"""Connection profiles from a TOML file, so that `--url user:pass@...` need not be typed each time.

    # ~/.config/stomper/config.toml (or --config FILE, or STOMPER_CONFIG)
    [profiles.default]
    url = ["stomp+ssl://broker-a:61614", "stomp+ssl://broker-b:61614"]
    login = "app"
    passcode_env = "BROKER_PASSCODE"        # or passcode_command = "pass show broker", or passcode = "..."
    heart_beat = "5000,5000"
    ca_file = "/etc/stomper/ca.pem"

A profile's values stand in for options the command line did not give:
command-line option > environment variable > profile > built-in default.
The profile is `--profile NAME`, else `STOMPER_PROFILE`, else `default`
when the file has one. A file that holds a `passcode` and that others can
read is refused, as ssh refuses a private key that others can read.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from click.core import ParameterSource

from stomper.settings import CLIENT_ID_HEADER, check_connect_headers
from stomper.url import MASK

#: Profile keys and the command-line parameters they stand in for.
KEYS = {
    "url": "urls", "login": "login", "passcode": "passcode", "vhost": "vhost", "stomp_version": "stomp_version",
    "heart_beat": "heart_beat", "connect_timeout": "connect_timeout", "ca_file": "ca_file", "cert_file": "cert_file",
    "key_file": "key_file", "insecure": "insecure", "connect_header": "connect_headers", "client_id": "client_id",
    "receipt_timeout": "receipt_timeout",
}
#: Profile keys by the parameter they stand in for, to name a bad value the way the file spells it.
KEY_OF = {parameter: key for key, parameter in KEYS.items()}
#: Keys that say where the passcode comes from instead of holding it.
SECRET_SOURCES = ("passcode_env", "passcode_command")


class ProfileError(ValueError):
    """A config file or profile that cannot be used; the message is one line for the user."""


def config_path(given: str | None = None) -> Path:
    """--config FILE, else STOMPER_CONFIG, else $XDG_CONFIG_HOME/stomper/config.toml."""
    if given or os.environ.get("STOMPER_CONFIG"):
        return Path(given or os.environ["STOMPER_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "stomper" / "config.toml"


def load_profiles(path: Path, required: bool = False) -> dict[str, dict[str, Any]]:
    """Every profile of the file at `path` ({} when it does not exist and was not asked for by name)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ProfileError(f"config file {path} does not exist") from None
        return {}
    except OSError as error:
        raise ProfileError(f"cannot read config file {path}: {error.strerror}") from None
    import tomllib  # only when there is a config file: most runs have none

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProfileError(f"config file {path}: {error}") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(value, dict) for value in profiles.values()):
        raise ProfileError(f"config file {path}: [profiles.NAME] tables expected")
    for name, profile in profiles.items():
        _check_keys(path, name, profile)
    _check_permissions(path, profiles)
    return profiles


def _check_keys(path: Path, name: str, profile: dict[str, Any]) -> None:
    unknown = sorted(set(profile) - set(KEYS) - set(SECRET_SOURCES))
    if unknown:
        raise ProfileError(f"config file {path}: profile {name!r} has unknown setting {unknown[0]!r} (known: {', '.join(sorted(KEYS))}, "
                           f"{', '.join(SECRET_SOURCES)})")
    if sum(key in profile for key in ("passcode", *SECRET_SOURCES)) > 1:
        raise ProfileError(f"config file {path}: profile {name!r} gives more than one of passcode, {', '.join(SECRET_SOURCES)}")


def _holds_passcode(profile: dict[str, Any]) -> bool:
    urls = profile.get("url", [])
    return "passcode" in profile or any(urlsplit(url).password is not None for url in ([urls] if isinstance(urls, str) else urls))


def _check_permissions(path: Path, profiles: dict[str, dict[str, Any]]) -> None:
    mode = path.stat().st_mode
    if any(_holds_passcode(profile) for profile in profiles.values()) and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ProfileError(f"config file {path} holds a passcode and others can read it (mode {stat.S_IMODE(mode):04o}): "
                           f"run chmod 600 {shlex.quote(str(path))}")


def chosen_name(profiles: dict[str, dict[str, Any]], name: str | None, path: Path) -> str | None:
    """The profile to use: `name`, else STOMPER_PROFILE, else `default` when the file has one (None: no profile)."""
    chosen = name or os.environ.get("STOMPER_PROFILE") or ("default" if "default" in profiles else None)
    if chosen is not None and chosen not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ProfileError(f"no profile {chosen!r} in {path} (profiles: {known})")
    return chosen


def select_profile(profiles: dict[str, dict[str, Any]], name: str | None, path: Path) -> dict[str, Any]:
    """The profile named `name` (or STOMPER_PROFILE, or `default` when present), as parameter name -> value."""
    chosen = chosen_name(profiles, name, path)
    return {} if chosen is None else resolve(profiles[chosen], chosen)


def resolve(profile: dict[str, Any], name: str, wanted: set[str] | None = None) -> dict[str, Any]:
    """Parameter name -> value, with the passcode fetched from its source.

    Only the parameters in `wanted` (all when None): a secret store is not
    asked for a passcode the command line already gave.
    """
    values = {KEYS[key]: value for key, value in profile.items() if key in KEYS and (wanted is None or KEYS[key] in wanted)}
    if wanted is None or "passcode" in wanted:
        secret = _secret(profile, name)
        if secret is not None:
            values["passcode"] = secret
    for key in ("urls", "connect_headers"):
        if isinstance(values.get(key), str):
            values[key] = [values[key]]
    return values


def _secret(profile: dict[str, Any], name: str) -> str | None:
    """The passcode from passcode_env or passcode_command (None when the profile names neither)."""
    if "passcode_env" in profile:
        variable = profile["passcode_env"]
        if variable not in os.environ:
            raise ProfileError(f"profile {name!r}: environment variable {variable} (passcode_env) is not set")
        return os.environ[variable]
    if "passcode_command" in profile:
        return _run_passcode_command(profile["passcode_command"], name)
    return None


def apply_profile(ctx: click.Context, values: dict[str, Any], name: str | None, config: str | None) -> None:
    """Fill `values` (the command's parameters) from the chosen profile wherever the command line and the environment gave nothing.

    Precedence: command-line option > environment variable > profile >
    built-in default, decided by Click's record of where each value came
    from. A profile's value goes through the option's own type and checks,
    so a bad one is the same usage error, naming the profile and its key.
    A client id given on the command line (as --client-id or as a client-id
    connect header) replaces the profile's, whichever way that is spelled.
    """
    path = config_path(config)
    unset = {param.name: param for param in ctx.command.params
             if param.name in values and ctx.get_parameter_source(param.name) in (ParameterSource.DEFAULT, None)}
    if values.get("ask_passcode"):
        unset.pop("passcode", None)
    try:
        profiles = load_profiles(path, required=config is not None)
        chosen = chosen_name(profiles, name, path)
        profile = {} if chosen is None else resolve(profiles[chosen], chosen, set(unset))
    except ProfileError as error:
        raise click.UsageError(str(error)) from None
    if values.get("client_id") is not None or any(header == CLIENT_ID_HEADER for header, _ in values.get("connect_headers", ())):
        _drop_client_id(profile)
    for parameter, value in profile.items():
        try:
            values[parameter] = unset[parameter].process_value(ctx, value)
        except click.BadParameter as error:
            raise click.UsageError(f"profile {chosen!r} in {path}: {KEY_OF[parameter]}: {error.message}") from None
    if profile.keys() & {"connect_headers", "client_id"}:
        try:
            check_connect_headers(values["connect_headers"], values["client_id"])
        except ValueError as error:
            raise click.UsageError(f"profile {chosen!r} in {path}: {error}") from None


def _drop_client_id(profile: dict[str, Any]) -> None:
    """Remove the profile's client id in both its spellings (client_id, a client-id connect header)."""
    profile.pop("client_id", None)
    if isinstance(profile.get("connect_headers"), list):
        profile["connect_headers"] = [header for header in profile["connect_headers"]
                                      if not (isinstance(header, str) and header.partition(":")[0] == CLIENT_ID_HEADER)]


def _run_passcode_command(command: str, name: str) -> str:
    """Run a secret store's command and take its first line; its output is never shown."""
    import subprocess  # only for a profile that names a passcode command

    try:
        done = subprocess.run(shlex.split(command), capture_output=True, check=False, timeout=30)
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise ProfileError(f"profile {name!r}: passcode_command failed: {type(error).__name__}") from None
    if done.returncode != 0:
        raise ProfileError(f"profile {name!r}: passcode_command exited with status {done.returncode}")
    return done.stdout.decode("utf-8", "surrogateescape").split("\n", 1)[0]


def shown(profile: dict[str, Any]) -> list[tuple[str, str]]:
    """The profile's settings for `stomper profile show`, passcode masked (its sources are not secrets)."""
    return [(key, MASK if key == "passcode" else _format(_masked_urls(value) if key == "url" else value)) for key, value in profile.items()]


def _masked_urls(urls: str | list[str]) -> list[str]:
    return [_mask_userinfo(url) for url in ([urls] if isinstance(urls, str) else urls)]


def _mask_userinfo(url: str) -> str:
    """The URL with the passcode of its userinfo replaced, found by position, never by searching."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    login = parts.netloc.rpartition("@")[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{login}:{MASK}@{parts.netloc.rpartition('@')[2]}"))


def _format(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)
