"""Profiles on the commands that connect, CONNECT headers, where options go, and suggestions for mistyped commands."""

from __future__ import annotations

import json
import re
import sys
from urllib.parse import urlsplit

import click
import pytest
from cli_helpers import assert_one_error_line, run
from click.testing import CliRunner

from stomper.settings import CONNECTION_SET_HEADERS, ConnectionSettings
from stomper_cli.app import SUBCOMMANDS, Settings, cli
from stomper_cli.options import connection_options

#: The option variables, cleared so that only what a test sets applies.
NO_OPTION_ENV = {"STOMPER_URL": None, "STOMPER_LOGIN": None, "STOMPER_PASSCODE": None, "STOMPER_CA_FILE": None}
CONNECTING = ("send", "subscribe", "repl", "request", "reply", "bench")


@click.command()
@connection_options
def probe(conn_params: ConnectionSettings) -> None:
    """Print what a connection would be opened with (the passcode only as a yes/no)."""
    kwargs = conn_params.connection_kwargs()
    kwargs["passcode"] = kwargs["passcode"] is not None
    click.echo(json.dumps(kwargs))


def probed(*args: str, env: dict | None = None) -> dict:
    result = CliRunner().invoke(probe, list(args), env={**NO_OPTION_ENV, **(env or {})})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_config(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


# --- CONNECT headers ------------------------------------------------------------------------------


def test_connect_headers_and_client_id_reach_the_connection_arguments():
    kwargs = probed("--connect-header", "a:b:c", "--connect-header", "x-empty:", "--client-id", "app-1")
    assert kwargs["connect_headers"] == {"client-id": "app-1", "a": "b:c", "x-empty": ""}


def test_without_connect_headers_the_connection_arguments_have_none():
    """So that a Connection without the connect_headers argument is opened as before."""
    assert "connect_headers" not in probed()
    assert "connect_headers" not in ConnectionSettings().connection_kwargs()


@pytest.mark.parametrize("name", [*CONNECTION_SET_HEADERS, "Host", "HEART-BEAT"])
def test_a_header_the_connection_sets_itself_is_a_usage_error(name):
    line = assert_one_error_line(run("send", "/queue/never", "x", "--connect-header", f"{name}:v"), 2)
    assert f"connect header {name!r} is set by the connection itself" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--client-id", "a", "--connect-header", "client-id:b"], "--client-id ID is short for --connect-header client-id:ID"),
        (["--connect-header", "novalue"], "'novalue' is not name:value"),
        (["--connect-header", ":v"], "':v' is not name:value"),
        (["--connect-header", "x:1", "--connect-header", "x:2"], "connect header 'x' is given twice"),
    ],
)
def test_bad_connect_headers_are_usage_errors_on_one_line(args, words):
    line = assert_one_error_line(run("send", "/queue/never", "x", *args), 2)
    assert words in line and "--connect-header" in line or "connect header" in line


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"connect_headers": [("login", "x")]}, "set by the connection itself (from its login setting)"),
        ({"connect_headers": {"client-id": "a"}, "client_id": "b"}, "'client-id' is given twice (the client id is one too)"),
        ({"connect_headers": [("x", "line\nbreak")]}, "line break or NUL"),
        ({"connect_headers": [("a:b", "v")]}, "has no ':'"),
        ({"connect_headers": [("x",)]}, "(name, value) pair"),
        ({"client_id": 5}, "client_id must be text"),
    ],
)
def test_the_library_settings_refuse_connect_headers_that_cannot_be_sent(kwargs, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        ConnectionSettings(**kwargs)


def test_every_connecting_command_takes_the_connect_header_and_profile_options():
    ctx = click.Context(cli)
    for name in CONNECTING:
        params = {param.name for param in cli.get_command(ctx, name).params}
        assert {"connect_headers", "client_id", "profile", "config"} <= params, name
    assert set(CONNECTING) < set(SUBCOMMANDS)


# --- profiles and precedence -----------------------------------------------------------------------

PROFILES = """
[profiles.default]
url = "stomp://from-default:1"

[profiles.p]
url = ["stomp://from-profile:1", "stomp://from-profile:2"]
login = "profile-user"
heart_beat = [0, 2500]
connect_header = ["x-team:ops", "client-id:from-profile"]
receipt_timeout = 7
"""


def test_precedence_option_then_environment_then_profile_then_default(tmp_path):
    config = str(write_config(tmp_path, PROFILES))
    from_profile = probed("--profile", "p", "--config", config)
    assert from_profile["urls"] == ["stomp://from-profile:1", "stomp://from-profile:2"]
    assert (from_profile["login"], from_profile["heart_beat"]) == ("profile-user", [0, 2500])
    assert from_profile["connect_headers"] == {"x-team": "ops", "client-id": "from-profile"}
    assert from_profile["connect_timeout"] == 10.0  # the built-in default: the profile does not say
    from_env = probed("--profile", "p", "--config", config, env={"STOMPER_URL": "stomp://from-env:1", "STOMPER_LOGIN": "env-user"})
    assert (from_env["urls"], from_env["login"], from_env["heart_beat"]) == (["stomp://from-env:1"], "env-user", [0, 2500])
    from_option = probed("--profile", "p", "--config", config, "--url", "stomp://from-option:1", "--heart-beat", "1,1",
                         env={"STOMPER_URL": "stomp://from-env:1"})
    assert (from_option["urls"], from_option["heart_beat"]) == (["stomp://from-option:1"], [1, 1])


def test_verify_on_the_command_line_overrides_a_profiles_insecure_and_insecure_a_profiles_verification(tmp_path):
    config = str(write_config(tmp_path, '[profiles.lax]\ninsecure = true\n[profiles.strict]\ninsecure = false\n'))
    assert probed("--profile", "lax", "--config", config)["verify"] is False
    assert probed("--profile", "lax", "--config", config, "--verify")["verify"] is True
    assert probed("--profile", "strict", "--config", config, "--insecure")["verify"] is False
    assert probed("--verify")["verify"] is True and probed()["verify"] is True


def test_the_default_profile_applies_when_none_is_named_and_stomper_profile_names_one(tmp_path):
    config = str(write_config(tmp_path, PROFILES))
    assert probed("--config", config)["urls"] == ["stomp://from-default:1"]
    assert probed(env={"STOMPER_CONFIG": config})["urls"] == ["stomp://from-default:1"]
    assert probed(env={"STOMPER_CONFIG": config, "STOMPER_PROFILE": "p"})["login"] == "profile-user"


def test_the_config_file_in_xdg_config_home_is_read_without_options(tmp_path, monkeypatch):
    (tmp_path / "stomper").mkdir()
    (tmp_path / "stomper" / "config.toml").write_text(PROFILES)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert probed()["urls"] == ["stomp://from-default:1"]


def test_connect_headers_on_the_command_line_replace_the_profiles(tmp_path):
    config = str(write_config(tmp_path, PROFILES))
    assert probed("--profile", "p", "--config", config, "--connect-header", "x-a:1")["connect_headers"] == {"x-a": "1"}


@pytest.mark.parametrize("given", [["--client-id", "mine"], ["--connect-header", "client-id:mine"]])
def test_a_client_id_on_the_command_line_replaces_the_profiles_however_either_is_spelled(tmp_path, given):
    config = str(write_config(tmp_path, '[profiles.x]\nclient_id = "theirs"\n[profiles.y]\nconnect_header = "client-id:theirs"\n'))
    for name in ("x", "y"):
        assert probed("--profile", name, "--config", config, *given)["connect_headers"] == {"client-id": "mine"}


def test_a_profile_with_both_spellings_of_the_client_id_is_refused(tmp_path):
    config = str(write_config(tmp_path, '[profiles.x]\nclient_id = "a"\nconnect_header = ["client-id:b"]\n'))
    line = assert_one_error_line(run("send", "/queue/never", "x", "--profile", "x", "--config", config), 2)
    assert f"profile 'x' in {config}: connect header 'client-id' is given twice" in line


def test_a_bad_connect_header_on_the_command_line_is_not_blamed_on_the_profile(tmp_path):
    config = str(write_config(tmp_path, '[profiles.x]\nclient_id = "a"\n'))
    line = assert_one_error_line(run("send", "/q", "x", "--profile", "x", "--config", config, "--connect-header", "login:me"), 2)
    assert line.startswith("stomper: error: connect header 'login' is set by the connection itself")


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ('heart_beat = "5000"', "profile 'bad' in {path}: heart_beat: heart-beat '5000' must be CX,CY"),
        ("heart_beat = [1, 2, 3]", "profile 'bad' in {path}: heart_beat: heart-beat '1,2,3' must be CX,CY"),
        ("connect_timeout = -1", "profile 'bad' in {path}: connect_timeout: -1 is not a number of seconds from 0.1"),
        ('stomp_version = "2.0"', "profile 'bad' in {path}: stomp_version: '2.0' is not one of"),
        ('ca_file = "/nonexistent/ca.pem"', "profile 'bad' in {path}: ca_file: File '/nonexistent/ca.pem' does not exist"),
        ('url = "http://u:S3cret@h"', "profile 'bad' in {path}: url: bad broker URL 'http://u:***@h'"),
        ('connect_header = ["host:x"]', "profile 'bad' in {path}: connect header 'host' is set by the connection itself"),
        ('connect_header = ["x:1", "x:2"]', "profile 'bad' in {path}: connect header 'x' is given twice"),
        ('connect_header = ["nocolon"]', "profile 'bad' in {path}: connect_header: 'nocolon' is not name:value"),
        ('insecure = "maybe"', "profile 'bad' in {path}: insecure: 'maybe' is not a valid boolean"),
    ],
)
def test_a_bad_value_in_a_profile_is_one_line_naming_the_profile_exit_2(tmp_path, setting, words):
    config = write_config(tmp_path, f"[profiles.bad]\n{setting}\n")
    result = run("send", "/queue/never", "x", "--profile", "bad", "--config", str(config))
    line = assert_one_error_line(result, 2)
    assert words.format(path=config) in line
    assert "S3cret" not in result.stderr.decode()


def test_an_unknown_profile_or_a_missing_named_config_file_is_a_usage_error(tmp_path):
    config = str(write_config(tmp_path, PROFILES))
    assert "no profile 'nope'" in assert_one_error_line(run("send", "/q", "x", "--profile", "nope", "--config", config), 2)
    missing = str(tmp_path / "missing.toml")
    assert "does not exist" in assert_one_error_line(run("send", "/q", "x", "--config", missing), 2)
    assert "does not exist" in assert_one_error_line(run("send", "/q", "x", env={"STOMPER_CONFIG": missing}), 2)


def test_a_world_readable_config_holding_a_passcode_is_refused_on_one_line(tmp_path):
    config = write_config(tmp_path, '[profiles.default]\nurl = "stomp://127.0.0.1:61613"\npasscode = "S3cretPW"\n', mode=0o644)
    result = run("send", "/queue/never", "x", "--config", str(config))
    line = assert_one_error_line(result, 2)
    assert "holds a passcode and others can read it" in line and "chmod 600" in line
    assert "S3cretPW" not in result.stderr.decode()


def test_the_secret_store_is_not_asked_when_the_command_line_gives_the_passcode(tmp_path):
    failing = f"{sys.executable} -c \"import sys; sys.exit(5)\""
    config = str(write_config(tmp_path, f"[profiles.default]\npasscode_command = '{failing}'\n"))
    assert probed("--config", config, "--passcode", "given")["passcode"] is True
    assert "exited with status 5" in assert_one_error_line(run("send", "/q", "x", "--config", config), 2)


def test_a_profile_setting_for_another_command_applies_where_it_exists(tmp_path):
    """receipt_timeout is a repl option: the repl takes it from the profile, send has nothing to take it into."""
    config = str(write_config(tmp_path, PROFILES))
    result = run("repl", "--no-connect", "--profile", "p", "--config", config, input=b"receipts\n")
    assert result.returncode == 0 and b"wait 7 s" in result.stdout, result.stderr
    assert probed("--profile", "p", "--config", config)["urls"][0] == "stomp://from-profile:1"


def broker_profile(broker, passcode_line: str) -> str:
    parts = urlsplit(broker.url)
    return f'url = "stomp://{parts.hostname}:{parts.port}"\nlogin = "{parts.username}"\n{passcode_line}\n'


def send_and_receive(queue: str, *options: str, env: dict | None = None) -> None:
    """`stomper send QUEUE hi OPTIONS` succeeds and `stomper subscribe` with the same options gets the message."""
    runner = CliRunner()
    sent = runner.invoke(cli, ["send", queue, "hi", *options], env={**NO_OPTION_ENV, **(env or {})})
    assert sent.exit_code == 0, sent.output
    got = runner.invoke(cli, ["subscribe", queue, "-n", "1", "--body-only", "--timeout", "30", *options],
                        env={**NO_OPTION_ENV, **(env or {})})
    assert got.exit_code == 0 and got.stdout == "hi\n", got.output


def test_a_profile_holding_the_url_and_credentials_is_all_send_and_subscribe_need(broker, queue, tmp_path):
    profile = broker_profile(broker, f'passcode = "{broker.passcode}"')
    config = write_config(tmp_path, f"[profiles.p]\n{profile}")
    send_and_receive(queue, "--profile", "p", "--config", str(config))


def test_the_passcode_comes_from_passcode_env(broker, queue, tmp_path):
    profile = broker_profile(broker, 'passcode_env = "STOMPER_TEST_PW"')
    config = write_config(tmp_path, f"[profiles.default]\n{profile}")
    send_and_receive(queue, "--config", str(config), env={"STOMPER_TEST_PW": broker.passcode})
    refused = CliRunner().invoke(cli, ["send", queue, "hi", "--config", str(config)], env={**NO_OPTION_ENV, "STOMPER_TEST_PW": "wrong"})
    assert refused.exit_code != 0


def test_against_rabbitmq_an_environment_url_beats_the_profile_and_an_option_beats_both(queue, tmp_path):
    nothing_there = "stomp://guest:guest@127.0.0.1:1"
    rabbitmq = "stomp://guest:guest@127.0.0.1:61613"
    config = str(write_config(tmp_path, f'[profiles.p]\nurl = "{nothing_there}"\nconnect_timeout = 2\n'))
    profile_only = CliRunner().invoke(cli, ["send", queue, "hi", "--profile", "p", "--config", config], env=NO_OPTION_ENV)
    assert profile_only.exit_code == 3, profile_only.output  # the profile's URL is the one used: nothing listens there
    send_and_receive(queue, "--profile", "p", "--config", config, env={"STOMPER_URL": rabbitmq})
    send_and_receive(queue, "--profile", "p", "--config", config, "--url", rabbitmq, env={"STOMPER_URL": nothing_there})


def test_stomper_profile_show_masks_the_passcode_through_the_group(tmp_path):
    config = str(write_config(tmp_path, '[profiles.p]\nurl = "stomp://u:UrlS3cret@h"\npasscode = "S3cretPW"\n'))
    result = CliRunner().invoke(cli, ["profile", "show", "p", "--config", config])
    assert result.exit_code == 0, result.output
    assert result.stdout == "url = stomp://u:***@h\npasscode = ***\n"


# --- where the options go ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["pack", "--json", "--debug", "--color", "never"],
        ["pack", "--json", "-v", "--debug", "--color", "never"],
        ["--debug", "pack", "--json", "--color", "never"],
        ["--color", "never", "-v", "pack", "--json", "--debug"],
    ],
)
def test_global_options_work_before_or_after_the_subcommand(args):
    settings = Settings()
    result = CliRunner().invoke(cli, args, input="{\n", obj=settings)
    assert result.exit_code == 1
    assert (settings.debug, settings.verbose, settings.color) == (True, True, "never")
    assert "Traceback" in result.stderr


def test_a_group_option_is_not_undone_by_the_subcommand():
    settings = Settings()
    CliRunner().invoke(cli, ["-v", "--color", "always", "pack", "--json"], input="", obj=settings)
    assert (settings.verbose, settings.debug, settings.color) == (True, False, "always")


def test_verbose_after_the_subcommand_shows_the_frames(queue):
    result = run("send", queue, "hi", "-v", "--url", "stomp://guest:guest@127.0.0.1:61613")
    assert result.returncode == 0, result.stderr
    assert b">>> CONNECT" in result.stderr and b"<<< CONNECTED" in result.stderr and b"passcode: ***\n" in result.stderr


def test_color_after_the_subcommand_colours_and_profile_list_takes_verbose():
    from stomper import Frame

    raw = Frame("SEND", {"destination": "/q", "content-type": "application/json"}, b'{"a": 1}').encode()
    assert b"\x1b[" in run("unpack", "--color", "always", input=raw).stdout
    assert run("profile", "list", "-v").returncode == 0


def test_options_after_double_dash_belong_to_the_command_reply_runs():
    settings = Settings()
    group = cli.make_context("stomper", ["reply"], obj=settings)
    reply = cli.get_command(group, "reply").make_context("reply", ["/queue/svc", "--", "grep", "-v", "--debug"], parent=group)
    assert reply.params["command"] == ("grep", "-v", "--debug")
    assert (settings.verbose, settings.debug) == (False, False)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--url", "stomp://u:S3cret@h", "send", "/q", "x"], "--url goes after the command: stomper send --url ..."),
        (["--url=stomp://u:S3cret@h", "send", "/q", "x"], "--url goes after the command: stomper send --url ..."),
        (["--profile", "p", "subscribe", "/q"], "--profile goes after the command: stomper subscribe --profile ..."),
        (["--client-id", "c", "repl"], "--client-id goes after the command: stomper repl --client-id ..."),
        (["--json", "subscribe", "/q"], "--json goes after the command: stomper subscribe --json ..."),
        (["--bogus", "send", "/q", "x"], "No such option '--bogus'"),
    ],
)
def test_an_option_before_its_subcommand_says_where_it_goes(args, words):
    result = run(*args)
    line = assert_one_error_line(result, 2)
    assert words in line and "S3cret" not in line


# --- suggestions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "meant"), [("sned", "send"), ("subscibe", "subscribe"), ("profil", "profile"), ("rpel", "repl")])
def test_a_mistyped_command_suggests_the_nearest(typed, meant):
    line = assert_one_error_line(run(typed, "/q"), 2)
    assert f"No such command {typed!r}. Did you mean {meant}?" in line


def test_a_command_like_no_other_gets_no_suggestion():
    line = assert_one_error_line(run("xyzzy"), 2)
    assert "No such command 'xyzzy'." in line and "Did you mean" not in line


def test_a_mistyped_repl_command_suggests_the_nearest():
    result = run("repl", "--no-connect", input=b"sned /queue/x hi\nsubscirbe /queue/x\nxyzzy\n")
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2
    assert lines == [
        "stomper: error: <stdin>:1: unknown command 'sned', did you mean send? (type `help` for the list)",
        "stomper: error: <stdin>:2: unknown command 'subscirbe', did you mean subscribe? (type `help` for the list)",
        "stomper: error: <stdin>:3: unknown command 'xyzzy' (type `help` for the list)",
    ]
