"""The shared connection options and open_connection, checked with CliRunner (no broker)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from stomper_cli.app import cli
from stomper_cli.errors import mask
from stomper_cli.options import DEFAULT_URL, ConnectionParams, connection_options, open_connection


@click.command()
@connection_options
def probe(conn_params: ConnectionParams) -> None:
    conn = open_connection(conn_params)
    click.echo(repr((conn_params.urls, conn_params.login, conn_params.vhost, conn_params.version, conn_params.heart_beat, conn_params.verify)))
    click.echo(f"passcode-set={conn_params.passcode is not None} connected={conn.connected}")


def invoke(*args: str, env: dict | None = None, input: str | None = None):
    clean = {"STOMPER_URL": None, "STOMPER_LOGIN": None, "STOMPER_PASSCODE": None, "STOMPER_CA_FILE": None, **(env or {})}
    return CliRunner().invoke(probe, list(args), env=clean, input=input)


def test_defaults():
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [repr(([DEFAULT_URL], None, None, None, (10000, 10000), True)), "passcode-set=False connected=False"]


def test_several_urls_and_options():
    result = invoke("--url", "stomp://a:1", "--url", "stomp+ssl://b:2", "--login", "me", "--vhost", "v", "--stomp-version", "1.1",
                    "--heart-beat", "0,5000", "--insecure")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == repr((["stomp://a:1", "stomp+ssl://b:2"], "me", "v", "1.1", (0, 5000), False))


def test_environment():
    result = invoke(env={"STOMPER_URL": "stomp://x:1 stomp://y:2", "STOMPER_LOGIN": "envuser", "STOMPER_PASSCODE": "envpass"})
    assert result.stdout.splitlines() == [repr((["stomp://x:1", "stomp://y:2"], "envuser", None, None, (10000, 10000), True)),
                                          "passcode-set=True connected=False"]
    assert mask("said envpass") == "said ********"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--url", "http://localhost:61613"], "is not a stomp:// or stomp+ssl:// URL"),
        (["--url", "tcp://localhost:61613"], "is not a stomp:// or stomp+ssl:// URL"),
        (["--url", "stomp://host:99999"], "bad URL"),
        (["--heart-beat", "10"], "is not CX,CY"),
        (["--heart-beat", "-1,5"], "is not CX,CY"),
        (["--stomp-version", "1.3"], "1.3"),
        (["--ca-file", "/nonexistent/ca.pem"], "does not exist"),
    ],
)
def test_usage_errors(args, needle):
    result = invoke(*args)
    assert result.exit_code == 2
    assert needle in result.output


def test_bad_url_in_the_real_commands_is_exit_2_with_one_line():
    for command in (["send", "/q", "x"], ["subscribe", "/q"]):
        result = CliRunner().invoke(cli, [*command, "--url", "amqp://localhost"], env={"STOMPER_URL": None})
        assert result.exit_code == 2
        assert result.stderr.startswith("stomper: error: Invalid value for '--url'") and result.stderr.count("\n") == 1


def test_ask_passcode_prompts_without_echo():
    result = invoke("--ask-passcode", input="s3cret-typed\n")
    assert result.exit_code == 0, result.output
    assert "passcode-set=True" in result.stdout
    assert "s3cret-typed" not in result.output
    assert mask("s3cret-typed") == "********"


def test_url_passcode_is_masked_in_messages():
    invoke("--url", "stomp://user:url-secret-42@host:1")
    assert mask("failed for url-secret-42") == "failed for ********"
