"""stomper bench: the figures on known data, and short real runs on RabbitMQ and ActiveMQ."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import pty
import re
import select
import signal
import subprocess
import uuid

import pytest
from cli_helpers import DEFAULT_URLS, OPTION_ENV, STOMPER, Broker, assert_one_error_line, run

from stomper_cli import bench_stats
from stomper_cli.bench_run import Outcome, Run, spread_urls
from stomper_cli.bench_worker import PUBLISHER_HEADER, RUN_HEADER, SENT_AT_HEADER, SEQUENCE_HEADER, Client, _Tally
from stomper_cli.options import ConnectionParams

#: Every field of the JSON object, as the README documents them.
REPORT_FIELDS = {
    "destination", "delivery", "server", "stomp_version", "publishers", "subscribers", "messages_per_publisher", "duration",
    "size", "ack", "receipts_every", "rate_per_publisher", "procs", "interrupted", "sent", "expected", "received", "lost",
    "duplicates", "publish", "subscribe", "clients",
}
THROUGHPUT_FIELDS = {"messages", "bytes", "seconds", "msg_per_s", "mb_per_s"}
LATENCY_FIELDS = {"count", "min", "mean", "p50", "p90", "p99", "p99_9", "max"}
PUBLISHER_FIELDS = {"name", "role", "url"} | THROUGHPUT_FIELDS
SUBSCRIBER_FIELDS = PUBLISHER_FIELDS | {"latency_us", "lost", "duplicates", "foreign"}
SHORT_RUN = ("--pub", "2", "--sub", "2", "--msgs", "2000", "--size", "100", "--procs", "2", "--json")


def nearest_rank(values: list[int], percentile: float) -> int:
    """The exact nearest-rank percentile, the reference for the histogram."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percentile / 100.0 * len(ordered))) - 1]


# --- the figures, on known data --------------------------------------------------------------------


def test_percentiles_of_1_to_1000_are_exact():
    summary = bench_stats.latency_summary(bench_stats.histogram_from_counts(dict.fromkeys(range(1, 1001), 1)))
    assert summary == {"count": 1000, "min": 1, "mean": 500.5, "p50": 500, "p90": 900, "p99": 990, "p99_9": 999, "max": 1000}


def test_percentiles_of_a_wide_spread_are_within_a_thousandth_of_the_exact_ones():
    values = [(value * 7919) % 5_000_000 + 1 for value in range(20000)]  # fixed, spread over 1 us .. 5 s
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    summary = bench_stats.latency_summary(bench_stats.histogram_from_counts(counts))
    for name, percentile in bench_stats.PERCENTILES:
        exact = nearest_rank(values, percentile)
        assert abs(summary[name] - exact) <= exact / 1000, (name, summary[name], exact)
    assert summary["count"] == len(values)
    assert abs(summary["max"] - max(values)) <= max(values) / 1000


def test_merged_histograms_equal_one_histogram_of_everything():
    low = bench_stats.encode(bench_stats.histogram_from_counts(dict.fromkeys(range(1, 501), 2)))
    high = bench_stats.encode(bench_stats.histogram_from_counts(dict.fromkeys(range(501, 1001), 2)))
    merged = bench_stats.latency_summary(bench_stats.merge([low, high]))
    assert merged == {**bench_stats.latency_summary(bench_stats.histogram_from_counts(dict.fromkeys(range(1, 1001), 2))), "count": 2000}


def test_negative_latency_counts_as_zero_and_an_empty_histogram_has_no_summary():
    assert bench_stats.latency_summary(bench_stats.histogram_from_counts({-5: 3}))["max"] == 0
    assert bench_stats.latency_summary(bench_stats.new_histogram()) is None


def test_csv_lists_every_value_with_cumulative_counts():
    stream = io.StringIO()
    bench_stats.write_csv(bench_stats.histogram_from_counts({10: 1, 20: 2, 30: 1}), stream)
    assert list(csv.reader(io.StringIO(stream.getvalue()))) == [
        ["latency_us", "count", "cumulative_count", "percentile"],
        ["10", "1", "1", "25.0000"], ["20", "2", "3", "75.0000"], ["30", "1", "4", "100.0000"],
    ]


def test_text_plot_puts_every_message_in_one_band():
    counts = {1: 5, 10: 50, 100: 500, 1000: 5000, 100000: 1}
    lines = bench_stats.text_plot(bench_stats.histogram_from_counts(counts), rows=5, width=20)
    assert len(lines) == 5
    assert sum(int(line.rsplit(" (", 1)[0].split()[-1]) for line in lines) == sum(counts.values())
    assert max(lines, key=lambda line: line.count("#")).count("#") == 20
    assert bench_stats.text_plot(bench_stats.histogram_from_counts({7: 3}))[0].endswith("3 (100.0%)")


def test_throughput():
    figures = bench_stats.throughput(1000, 2_000_000, 0.5)
    assert figures == {"messages": 1000, "bytes": 2_000_000, "seconds": 0.5, "msg_per_s": 2000.0, "mb_per_s": 4.0}
    assert bench_stats.throughput(0, 0, 0)["msg_per_s"] == 0.0


# --- counting: sequence maps, loss and duplicates ---------------------------------------------------


def _headers(publisher: int, sequence: int, run_id: str = "run") -> dict[str, str]:
    return {RUN_HEADER: run_id, PUBLISHER_HEADER: str(publisher), SEQUENCE_HEADER: str(sequence), SENT_AT_HEADER: "1000000"}


def test_tally_counts_duplicates_latency_and_other_runs_messages():
    tally = _Tally("run")
    for sequence in (0, 1, 1, 5000):
        tally.count(_headers(0, sequence), b"abc", 3_000_000)
    tally.count(_headers(0, 2, run_id="earlier"), b"abc", 3_000_000)
    tally.count({}, b"", 3_000_000)
    assert (tally.received, tally.duplicates, tally.foreign, tally.body_bytes) == (4, 1, 2, 12)
    assert tally.latencies == {2000: 4}
    assert [index for index, mark in enumerate(tally.seen["0"]) if mark] == [0, 1, 5000]


def _outcome(delivery: str, sent: list[int], seen: list[dict[str, list[int]]], duplicates: list[int]) -> Outcome:
    run_ = Run(destination="/queue/x", delivery=delivery, params=ConnectionParams(), publishers=len(sent), subscribers=len(seen),
               messages=None, duration=1.0, size=1, ack="auto", receipts=0, rate=None, procs=1, drain_timeout=1.0)
    clients = run_.clients()
    outcome = Outcome(run_, clients)
    for client in clients:
        if client.role == "publisher":
            outcome.results[client.index] = {"messages": sent[client.number]}
        else:
            maps = {}
            for publisher, numbers in seen[client.number].items():
                marks = bytearray(max(numbers) + 1)
                for number in numbers:
                    marks[number] = 1
                maps[publisher] = bytes(marks)
            outcome.results[client.index] = {"seen": maps, "duplicates": duplicates[client.number]}
    return outcome


def test_competing_subscribers_lose_what_nobody_got_and_duplicate_what_two_got():
    outcome = _outcome("compete", sent=[4, 3], seen=[{"0": [0, 1], "1": [0, 1, 2]}, {"0": [1, 3]}], duplicates=[2, 0])
    expected, got, per_client = outcome.losses()
    assert (expected, got) == (7, 6)  # publisher 0's message 2 never arrived
    assert per_client[0] == (0, 2) and per_client[1] == (0, 1)  # sub-1's copy of 0/1 is a duplicate


def test_fanout_subscribers_each_must_get_everything():
    outcome = _outcome("fanout", sent=[3], seen=[{"0": [0, 1, 2]}, {"0": [0, 2]}], duplicates=[0, 1])
    expected, got, per_client = outcome.losses()
    assert (expected, got) == (6, 5)
    assert per_client == {0: (0, 0), 1: (1, 1)}


def test_clients_spread_over_several_urls_with_the_rest_as_failover():
    a, b, c = "stomp://a", "stomp://b", "stomp://c"
    assert [spread_urls([a, b, c], index) for index in range(4)] == [(a, b, c), (b, c, a), (c, a, b), (a, b, c)]
    run_ = Run(destination="/queue/x", delivery="compete", params=ConnectionParams(urls=[a, b]), publishers=1, subscribers=2,
               messages=1, duration=None, size=1, ack="auto", receipts=0, rate=None, procs=1, drain_timeout=1.0)
    assert run_.clients() == [Client(0, "subscriber", 0, (a, b)), Client(1, "subscriber", 1, (b, a)), Client(2, "publisher", 0, (a, b))]


# --- the command line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, wrong",
    [
        (["--rate", "nan"], "--rate"), (["--rate", "inf"], "--rate"), (["--rate", "-5"], "--rate"), (["--duration", "0"], "--duration"),
        (["--duration", "NaN"], "--duration"), (["--drain-timeout", "-inf"], "--drain-timeout"), (["--msgs", "-1"], "--msgs"),
        (["--size", "-1"], "--size"), (["--pub", "0"], "--pub"), (["--sub", "-1"], "--sub"), (["--receipts", "-1"], "--receipts"),
        (["--procs", "0"], "--procs"), (["--msgs", "5", "--duration", "1"], "--msgs or --duration"),
    ],
)
def test_bad_numbers_are_usage_errors(args, wrong):
    result = run("bench", "--url", "stomp://127.0.0.1:1", *args)
    assert wrong in assert_one_error_line(result, 2)


def test_an_unwritable_histogram_file_is_a_usage_error_before_anything_runs(tmp_path):
    result = run("bench", "--url", "stomp://127.0.0.1:1", "--histogram", str(tmp_path / "missing" / "latency.csv"))
    assert "cannot write" in assert_one_error_line(result, 2)


def _bench(broker: Broker, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = run("bench", "--url", broker.url, *args)
    return result, json.loads(result.stdout)


def _assert_documented_fields(report: dict) -> None:
    assert set(report) == REPORT_FIELDS
    assert set(report["publish"]) == THROUGHPUT_FIELDS
    assert set(report["subscribe"]) == THROUGHPUT_FIELDS | {"latency_us"}
    assert set(report["subscribe"]["latency_us"]) == LATENCY_FIELDS
    for client in report["clients"]:
        assert set(client) == (PUBLISHER_FIELDS if client["role"] == "publisher" else SUBSCRIBER_FIELDS)


@pytest.mark.broker
def test_queue_subscribers_share_all_messages_once(broker, tmp_path):
    histogram = tmp_path / "latency.csv"
    result, report = _bench(broker, *SHORT_RUN, "--histogram", str(histogram))
    assert result.returncode == 0, result.stderr
    _assert_documented_fields(report)
    assert report["destination"].startswith("/queue/stomper.bench.") and report["delivery"] == "compete"
    assert (report["sent"], report["expected"], report["received"], report["lost"], report["duplicates"]) == (4000, 4000, 4000, 0, 0)
    subscribers = [client for client in report["clients"] if client["role"] == "subscriber"]
    publishers = [client for client in report["clients"] if client["role"] == "publisher"]
    assert sum(client["messages"] for client in subscribers) == 4000
    assert [client["messages"] for client in publishers] == [2000, 2000]
    assert report["subscribe"]["bytes"] == 4000 * 100 and report["subscribe"]["latency_us"]["count"] == 4000
    rows = list(csv.DictReader(histogram.open()))
    assert sum(int(row["count"]) for row in rows) == 4000
    assert rows[-1]["cumulative_count"] == "4000" and rows[-1]["percentile"] == "100.0000"


@pytest.mark.broker
def test_topic_subscribers_each_get_every_message(broker):
    topic = f"/topic/stomper-bench-{uuid.uuid4().hex[:12]}"
    result, report = _bench(broker, topic, *SHORT_RUN, "--ack", "client", "--receipts", "500")
    assert result.returncode == 0, result.stderr
    _assert_documented_fields(report)
    assert report["delivery"] == "fanout" and report["destination"] == topic
    assert (report["sent"], report["expected"], report["received"], report["lost"], report["duplicates"]) == (4000, 8000, 8000, 0, 0)
    assert [client["messages"] for client in report["clients"] if client["role"] == "subscriber"] == [4000, 4000]
    assert all(client["lost"] == 0 for client in report["clients"] if client["role"] == "subscriber")


@pytest.mark.broker
def test_fanout_counted_on_a_queue_is_loss_and_exits_1_after_the_report(broker, queue):
    """Two subscribers told to expect every message on a queue, where they compete: each message misses one of them."""
    result, report = _bench(broker, queue, "--pub", "1", "--sub", "2", "--msgs", "300", "--delivery", "fanout", "--procs", "2",
                            "--drain-timeout", "1", "--json")
    assert result.returncode == 1, result.stderr
    assert (report["sent"], report["expected"], report["received"], report["lost"], report["duplicates"]) == (300, 600, 300, 300, 0)
    assert sum(client["lost"] for client in report["clients"] if client["role"] == "subscriber") == 300
    assert result.stderr.decode().strip() == "stomper: error: 300 of 600 messages lost"


@pytest.mark.broker
def test_ctrl_c_still_reports_what_was_measured(broker):
    """SIGINT mid-run: exit 130 with the JSON report of what was sent and received so far."""
    topic = f"/topic/stomper-bench-{uuid.uuid4().hex[:12]}"
    controller, terminal = pty.openpty()  # stderr on a terminal: the progress display says when messages arrive
    env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
    process = subprocess.Popen([*STOMPER, "bench", "--url", broker.url, topic, "--duration", "60", "--rate", "200", "--procs", "2", "--json"],
                               stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL, env=env)
    os.close(terminal)
    shown = b""
    try:
        while not re.search(rb"received\D*[1-9]", re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", shown)):  # a message has arrived
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, shown
            try:
                shown += os.read(controller, 4096)
            except OSError:  # the terminal closed: bench ended before a message arrived
                raise AssertionError(f"bench exited with {process.wait()} before a message arrived: {shown!r}") from None
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
        while select.select([controller], [], [], 0)[0]:
            try:
                shown += os.read(controller, 4096)
            except OSError:
                break
        os.close(controller)
    assert process.returncode == 130, shown
    report = json.loads(stdout)
    assert report["interrupted"] is True
    assert report["sent"] >= report["received"] > 0
    assert b"stomper: error: interrupted" in shown


def test_nothing_listening_exits_3():
    assert "could not connect" in assert_one_error_line(run("bench", "--url", "stomp://127.0.0.1:1", "--msgs", "10"), 3)


@pytest.mark.broker
def test_refused_login_exits_1_and_never_shows_the_passcode(broker):
    result = run("bench", "--url", broker.bad_passcode_url("s3cret-bench"), "--msgs", "10", "--procs", "1")
    assert "broker error" in assert_one_error_line(result, 1)
    assert b"s3cret-bench" not in result.stdout + result.stderr


@pytest.mark.broker
def test_over_tls(tls_broker):
    broker, ca_file = tls_broker
    result, report = _bench(broker, "--ca-file", ca_file, "--pub", "1", "--sub", "1", "--msgs", "200", "--procs", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert (report["sent"], report["received"], report["lost"]) == (200, 200, 0)
    assert all(client["url"].startswith("stomp+ssl://") for client in report["clients"])


@pytest.mark.broker
def test_several_urls_spread_the_clients_over_the_brokers():
    """Two unconnected brokers: each topic subscriber hears only the publisher on its own broker, so half is lost."""
    urls = {name: os.environ.get(f"STOMPER_{name.upper()}_URL", url) for name, url in DEFAULT_URLS.items()}
    topic = f"/topic/stomper-bench-{uuid.uuid4().hex[:12]}"
    result = run("bench", "--url", urls["rabbitmq"], "--url", urls["activemq"], topic, "--pub", "2", "--sub", "2", "--msgs", "100",
                 "--procs", "2", "--drain-timeout", "1", "--json")
    report = json.loads(result.stdout)
    ports = {client["name"]: client["url"].rsplit(":", 1)[1] for client in report["clients"]}
    rabbit, active = urls["rabbitmq"].rsplit(":", 1)[1], urls["activemq"].rsplit(":", 1)[1]
    assert ports == {"sub-0": rabbit, "sub-1": active, "pub-0": rabbit, "pub-1": active}
    assert [client["messages"] for client in report["clients"] if client["role"] == "subscriber"] == [100, 100]
    assert (report["expected"], report["lost"], result.returncode) == (400, 200, 1)


@pytest.mark.broker
def test_the_table_in_a_pipe_shows_every_figure_whole(broker):
    result = run("bench", "--url", broker.url, "--pub", "2", "--sub", "2", "--msgs", "500", "--procs", "2")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    lines = text.splitlines()
    assert "\u2026" not in text and "\x1b[" not in text
    assert lines[0].startswith("/queue/stomper.bench.") and "2 pub, 2 sub" in lines[0]
    totals = [line.split()[:2] for line in lines if line.split()[:1] in (["publishers"], ["subscribers"])]
    assert totals == [["publishers", "1,000"], ["subscribers", "1,000"]]
