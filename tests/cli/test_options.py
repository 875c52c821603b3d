"""The shared connection options, the number types and open_connection, checked with CliRunner and the real `stomper`."""

from __future__ import annotations

import math
import socket
from urllib.parse import quote

import click
import pytest
from cli_helpers import assert_one_error_line, run
from click.testing import CliRunner

from stomper.settings import MAX_HEART_BEAT, MAX_MILLISECONDS, MAX_SECONDS, ConnectionSettings
from stomper.url import MASK, scheme_names
from stomper_cli.app import cli, get_settings
from stomper_cli.errors import mask
from stomper_cli.options import (
    DEFAULT_URL,
    HeartBeat,
    Milliseconds,
    Seconds,
    connection_options,
    connection_settings,
    open_connection,
)

CLEAN_ENV = {"STOMPER_URL": None, "STOMPER_LOGIN": None, "STOMPER_PASSCODE": None, "STOMPER_CA_FILE": None}


def report_settings() -> None:
    """Deep inside a command: the settings come from the Click context, not from an argument or a global."""
    settings = connection_settings()
    conn = open_connection()
    click.echo(repr((list(settings.urls), settings.login, settings.vhost, settings.version, settings.heart_beat, settings.verify)))
    click.echo(f"passcode-set={settings.passcode is not None} connected={conn.connected} timeout={settings.connect_timeout}")


@click.command()
@connection_options
def probe(conn_params: ConnectionSettings) -> None:
    assert click.get_current_context().obj is conn_params
    report_settings()


def invoke(*args: str, env: dict | None = None, input: str | None = None):
    return CliRunner().invoke(probe, list(args), env={**CLEAN_ENV, **(env or {})}, input=input)


def test_defaults():
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        repr(([DEFAULT_URL], None, None, None, (10000, 10000), True)), "passcode-set=False connected=False timeout=10.0",
    ]


def test_several_urls_and_options():
    result = invoke("--url", "stomp://a:1", "--url", "stomp+ssl://b:2", "--login", "me", "--vhost", "v", "--stomp-version", "1.1",
                    "--heart-beat", "0,5000", "--insecure", "--connect-timeout", "2.5")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [repr((["stomp://a:1", "stomp+ssl://b:2"], "me", "v", "1.1", (0, 5000), False)),
                                          "passcode-set=False connected=False timeout=2.5"]


def test_environment():
    result = invoke(env={"STOMPER_URL": "stomp://x:1 stomp://y:2", "STOMPER_LOGIN": "envuser", "STOMPER_PASSCODE": "envpass"})
    assert result.stdout.splitlines() == [repr((["stomp://x:1", "stomp://y:2"], "envuser", None, None, (10000, 10000), True)),
                                          "passcode-set=True connected=False timeout=10.0"]


def test_the_largest_values_a_timer_holds_are_accepted():
    result = invoke("--heart-beat", f"{MAX_HEART_BEAT},0", "--connect-timeout", f"{MAX_SECONDS:.0f}")
    assert result.exit_code == 0, result.output
    assert f"({MAX_HEART_BEAT}, 0)" in result.stdout and f"timeout={MAX_SECONDS}" in result.stdout


def test_the_group_settings_still_reach_a_command_with_connection_options():
    @cli.command("probe-group")
    @connection_options
    def probe_group(conn_params: ConnectionSettings) -> None:
        click.echo(f"{get_settings().color} {get_settings().verbose} {connection_settings().login}")

    try:
        result = CliRunner().invoke(cli, ["--color", "never", "-v", "probe-group", "--login", "me"], env=CLEAN_ENV)
    finally:
        cli.commands.pop("probe-group")
    assert result.exit_code == 0, result.output
    assert result.stdout == "never True me\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--url", "http://localhost:61613"], "bad broker URL 'http://localhost:61613': expected stomp://"),
        (["--url", "stomp://host:99999"], "the port must be a number from 1 to 65535"),
        (["--url", "stomp://host:0"], "the port must be a number from 1 to 65535"),
        (["--heart-beat", "10"], "must be CX,CY"),
        (["--heart-beat", "-1,5"], "must be CX,CY"),
        (["--stomp-version", "1.3"], "1.3"),
        (["--ca-file", "/nonexistent/ca.pem"], "does not exist"),
    ],
)
def test_usage_errors(args, needle):
    result = invoke(*args)
    assert result.exit_code == 2
    assert needle in result.output


def test_bad_url_in_the_real_commands_is_exit_2_with_one_line():
    for command in (["send", "/q", "x"], ["subscribe", "/q"], ["repl"]):
        result = CliRunner().invoke(cli, [*command, "--url", "amqp://localhost"], env=CLEAN_ENV)
        assert result.exit_code == 2
        assert result.stderr.startswith("stomper: error: Invalid value for '--url'") and result.stderr.count("\n") == 1


def test_ask_passcode_prompts_without_echo():
    result = invoke("--ask-passcode", input="s3cret-typed\n")
    assert result.exit_code == 0, result.output
    assert "passcode-set=True" in result.stdout
    assert "s3cret-typed" not in result.output


# --- odd schemes and refused URLs, through the real command line --------------------------------------------------

SECRET = "S3cretPW"


def closed_port() -> int:
    """A local port where nothing listens (connecting is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odd_urls(port: int) -> dict[str, tuple[int, str]]:
    """URL -> (exit code, the one error line with the passcode masked)."""
    refused = f"stomper: error: could not connect to {{}}://user:{MASK}@127.0.0.1:{port}: connection refused"
    bad = "stomper: error: Invalid value for '--url': bad broker URL '{}': {} (see 'stomper send --help')"
    form = "expected stomp://[login[:passcode]@]host[:port][/vhost]; the scheme is one of " + scheme_names()
    ports = "the port must be a number from 1 to 65535"
    return {
        f"STOMP://user:{SECRET}@127.0.0.1:{port}": (3, refused.format("stomp")),
        f"Stomp+SSL://user:{SECRET}@127.0.0.1:{port}": (3, refused.format("stomp+ssl")),
        f"stomp+tls://user:{SECRET}@127.0.0.1:{port}": (3, refused.format("stomp+ssl")),
        f"tcp://user:{SECRET}@127.0.0.1:{port}": (3, refused.format("stomp")),
        f"stomp:/user:{SECRET}@127.0.0.1": (2, bad.format(f"stomp:/user:{MASK}@127.0.0.1", form)),
        f"ftp://user:{SECRET}@127.0.0.1": (2, bad.format(f"ftp://user:{MASK}@127.0.0.1", form)),
        f"user:{SECRET}@127.0.0.1": (2, bad.format(f"user:{MASK}@127.0.0.1", form)),
        f"stomp://user:{SECRET}@127.0.0.1:0": (2, bad.format(f"stomp://user:{MASK}@127.0.0.1:0", ports)),
        f"stomp://user:{SECRET}@127.0.0.1:65536": (2, bad.format(f"stomp://user:{MASK}@127.0.0.1:65536", ports)),
        f"stomp://user:{SECRET}@127.0.0.1?x=1": (2, bad.format(f"stomp://user:{MASK}@127.0.0.1?x=1", "no query or fragment allowed")),
        f"stomp://user:{SECRET}@127.0.0.1#f": (2, bad.format(f"stomp://user:{MASK}@127.0.0.1#f", "no query or fragment allowed")),
    }


@pytest.mark.parametrize("index", range(11))
@pytest.mark.parametrize("through", ["--url", "STOMPER_URL"])
def test_odd_urls_are_accepted_or_refused_with_the_passcode_masked(index, through):
    port = closed_port()
    url, (code, line) = list(odd_urls(port).items())[index]
    args = ["send", "/queue/x", "hi"] + (["--url", url] if through == "--url" else [])
    env = {**CLEAN_ENV, "STOMPER_URL": url if through == "STOMPER_URL" else None}
    for debug in ([], ["--debug"]):
        result = CliRunner().invoke(cli, [*debug, *args], env=env, prog_name="stomper")
        assert SECRET not in result.stdout + result.stderr
        assert result.exit_code == code, result.stderr
        assert result.stderr.splitlines()[-1] == line


def test_a_refused_url_in_a_real_process_never_shows_the_passcode():
    port = closed_port()
    for url, (code, line) in odd_urls(port).items():
        result = run("send", "/queue/x", "hi", "--url", url)
        assert SECRET.encode() not in result.stdout + result.stderr
        assert assert_one_error_line(result, code) == line


def test_a_url_quoted_back_by_click_is_masked():
    result = CliRunner().invoke(cli, ["send", "/q", "x", f"stomp://user:{SECRET}@h"], env=CLEAN_ENV)
    assert result.exit_code == 2 and SECRET not in result.stderr
    assert f"stomp://user:{MASK}@h" in result.stderr


# --- passcodes are masked where they stand, and nowhere else -------------------------------------------------------

PASSCODES = ["refused", "p", "guest", "nobody", "a@b:c"]


@pytest.mark.parametrize("passcode", PASSCODES)
def test_connection_messages_keep_their_words_whatever_the_passcode(passcode):
    port = closed_port()
    url = f"stomp://nobody:{quote(passcode, safe='')}@127.0.0.1:{port}"
    result = CliRunner().invoke(cli, ["send", "/q", "x", "--url", url], env=CLEAN_ENV)
    assert result.exit_code == 3
    assert result.stderr == f"stomper: error: could not connect to stomp://nobody:{MASK}@127.0.0.1:{port}: connection refused\n"
    assert mask(f"connection refused for {url} (passcode p)") == f"connection refused for stomp://nobody:{MASK}@127.0.0.1:{port} (passcode p)"


@pytest.mark.parametrize("passcode", PASSCODES)
@pytest.mark.parametrize("given", ["url", "option", "env"])
def test_a_refused_login_on_rabbitmq_keeps_the_brokers_words_and_hides_the_passcode(passcode, given):
    """RabbitMQ at 127.0.0.1:61613 refuses these credentials: 'Access refused for user ...'."""
    login = "nobody" if passcode != "guest" else "stomper-nobody"
    url = f"stomp://{login}@127.0.0.1:61613"
    args, env = ["--url", url], {}
    if given == "url":
        args = ["--url", f"stomp://{login}:{quote(passcode, safe='')}@127.0.0.1:61613"]
    elif given == "option":
        args += ["--passcode", passcode]
    else:
        env = {"STOMPER_PASSCODE": passcode}
    result = run("--verbose", "send", *args, "/queue/stomper-urlcfg-never", "x", env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert stderr.endswith(f"stomper: error: broker error: Bad CONNECT (Access refused for user '{login}')\nAccess refused for user '{login}'\n")
    assert f">>> login: {login}\n>>> passcode: {MASK}\n" in stderr and "<<< Access refused" in stderr
    if passcode not in f"Bad CONNECT Access refused for user '{login}' login: passcode:":  # else it is one of the words kept
        assert passcode not in stderr


# --- numbers ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["send", "/q", "x", "--heart-beat", "99999999999999,0"], "Invalid value for '--heart-beat': heart-beat '99999999999999,0' must be CX,CY"),
        (["send", "/q", "x", "--heart-beat", "0,99999999999999"], "Invalid value for '--heart-beat'"),
        (["send", "/q", "x", "--heart-beat", f"{MAX_HEART_BEAT + 1},0"], "two whole milliseconds from 0 to 1073741823"),
        (["send", "/q", "x", "--heart-beat", "nan,0"], "Invalid value for '--heart-beat'"),
        (["subscribe", "/q", "--heart-beat", "0,inf"], "Invalid value for '--heart-beat'"),
        (["send", "/q", "x", "--connect-timeout", "inf"], "'--connect-timeout': 'inf' is not a number of seconds from 0.1 to 2147483"),
        (["send", "/q", "x", "--connect-timeout", "nan"], "Invalid value for '--connect-timeout': 'nan'"),
        (["send", "/q", "x", "--connect-timeout", "-1"], "Invalid value for '--connect-timeout': '-1'"),
        (["repl", "--connect-timeout", "1e300"], "Invalid value for '--connect-timeout': '1e300'"),
        (["subscribe", "/q", "--timeout", "nan"], "Invalid value for '--timeout': 'nan' is not a number of seconds from 0 to 2147483"),
        (["subscribe", "/q", "--timeout", "inf"], "Invalid value for '--timeout': 'inf'"),
        (["subscribe", "/q", "--timeout", "-0.5"], "Invalid value for '--timeout': '-0.5'"),
        (["subscribe", "/q", "-n", "0"], "Invalid value for '-n' / '--count'"),
    ],
)
def test_numbers_out_of_range_are_usage_errors_on_one_line(args, needle):
    result = CliRunner().invoke(cli, [*args, "--url", f"stomp://127.0.0.1:{closed_port()}"], env=CLEAN_ENV)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and needle in result.stderr


def test_a_huge_heart_beat_is_refused_by_a_real_process_before_connecting():
    result = run("send", "/q", "x", "--heart-beat", "99999999999999,0", "--url", f"stomp://127.0.0.1:{closed_port()}")
    assert "Invalid value for '--heart-beat'" in assert_one_error_line(result, 2)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (Seconds(), {"0": 0.0, "2.5": 2.5, "2147483": MAX_SECONDS, 7: 7.0}, ["nan", "NaN", "inf", "-inf", "-1", "2147484", "x", "", "1e400"]),
        (Seconds(0.1, 60), {"0.1": 0.1, "60": 60.0}, ["0.05", "61", "nan"]),
        (Milliseconds(), {"0": 0, "2147483647": MAX_MILLISECONDS, " 5 ": 5}, ["nan", "inf", "-1", "1.5", "2147483648", "9" * 5000, "x"]),
        (Milliseconds(1, 1000), {"1": 1, "1000": 1000}, ["0", "1001"]),
        (HeartBeat(), {"0,0": (0, 0), "1,2": (1, 2), (3, 4): (3, 4)}, ["nan,0", "1", "99999999999999,0"]),
    ],
)
def test_number_types(kind, good, bad):
    for text, value in good.items():
        assert kind.convert(text, None, None) == value
    for text in bad:
        with pytest.raises(click.BadParameter):
            kind.convert(text, None, None)
    assert all(math.isfinite(kind.convert(text, None, None)) for text in good if not isinstance(kind, HeartBeat))


def test_help_states_every_range():
    for command in (["send"], ["subscribe"], ["repl"]):
        text = " ".join(CliRunner().invoke(cli, [*command, "--help"], terminal_width=400).output.split())
        assert "each 0 (off) to 1073741823" in text and "(0.1 to 2147483)" in text
    text = " ".join(CliRunner().invoke(cli, ["subscribe", "--help"], terminal_width=400).output.split())
    assert "SECONDS (0 to 2147483)" in text



@pytest.mark.parametrize("heart_beat", [f"{MAX_HEART_BEAT},{MAX_HEART_BEAT}", f"0,{MAX_HEART_BEAT}", f"{MAX_HEART_BEAT},0"])
def test_the_largest_values_work_against_the_real_brokers(broker, queue, heart_beat):
    """What the options accept, a connection can hold: the largest heart-beats and timeouts send and receive."""
    limits = ["--heart-beat", heart_beat, "--connect-timeout", f"{MAX_SECONDS:.0f}"]
    sent = run("send", "--url", broker.url, *limits, queue, "largest")
    assert sent.returncode == 0, sent.stderr
    received = run("subscribe", "--url", broker.url, *limits, queue, "-n", "1", "--timeout", f"{MAX_SECONDS:.0f}", "--format", "body")
    assert (received.returncode, received.stdout) == (0, b"largest\n"), received.stderr
