"""What acknowledgement modes and receipts cost, measured with `stomper bench` on RabbitMQ and ActiveMQ.

    .venv/bin/python benchmarks/bench_cli_bench.py                     # both brokers, 3 rounds
    .venv/bin/python benchmarks/bench_cli_bench.py --broker rabbitmq --msgs 20000 --rounds 5

Each round runs every scenario once, in turn, as a whole `stomper bench
--json` process (P publishers and S subscribers on a fresh queue), so the
scenarios see the same machine load; the figures are medians over the rounds
and the ratios compare each scenario's received msg/s with ack auto on the
same broker. Brokers come from STOMPER_RABBITMQ_URL / STOMPER_ACTIVEMQ_URL
(`scripts/brokers env`), defaulting to the ports scripts/brokers uses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

BROKERS = {
    "rabbitmq": os.environ.get("STOMPER_RABBITMQ_URL", "stomp://guest:guest@127.0.0.1:61613"),
    "activemq": os.environ.get("STOMPER_ACTIVEMQ_URL", "stomp://admin:admin@127.0.0.1:61623"),
}
SCENARIOS = {
    "ack auto": [],
    "ack client": ["--ack", "client"],
    "ack client-individual": ["--ack", "client-individual"],
    "auto, receipt per 100": ["--receipts", "100"],
}


def bench(url: str, args: argparse.Namespace, extra: list[str]) -> dict:
    command = [
        sys.executable, "-m", "stomper_cli", "bench", "--url", url, "--pub", str(args.pub), "--sub", str(args.sub),
        "--msgs", str(args.msgs), "--size", str(args.size), "--procs", str(args.procs), "--json", *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:])}: exit {result.returncode}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=[*BROKERS, "both"], default="both")
    parser.add_argument("--pub", type=int, default=2)
    parser.add_argument("--sub", type=int, default=2)
    parser.add_argument("--msgs", type=int, default=10000, help="messages per publisher")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    brokers = list(BROKERS) if args.broker == "both" else [args.broker]
    runs: dict[tuple[str, str], list[dict]] = {(broker, name): [] for broker in brokers for name in SCENARIOS}
    for _ in range(args.rounds):
        for broker in brokers:
            for name, extra in SCENARIOS.items():
                runs[broker, name].append(bench(BROKERS[broker], args, extra))
    python = sys.version.split()[0]
    print(f"{args.pub} pub, {args.sub} sub, {args.msgs:,} messages each of {args.size} bytes, median of {args.rounds}; python {python}")
    print(f"  {'broker':9} {'scenario':24} {'publish msg/s':>14} {'receive msg/s':>14} {'p50':>9} {'p99':>9}  vs ack auto")
    for broker in brokers:
        auto = statistics.median(report["subscribe"]["msg_per_s"] for report in runs[broker, "ack auto"])
        for name in SCENARIOS:
            reports = runs[broker, name]
            published = statistics.median(report["publish"]["msg_per_s"] for report in reports)
            received = statistics.median(report["subscribe"]["msg_per_s"] for report in reports)
            p50 = statistics.median(report["subscribe"]["latency_us"]["p50"] for report in reports) / 1000
            p99 = statistics.median(report["subscribe"]["latency_us"]["p99"] for report in reports) / 1000
            print(f"  {broker:9} {name:24} {published:14,.0f} {received:14,.0f} {p50:7.1f}ms {p99:7.1f}ms  {received / auto:5.2f}x")


if __name__ == "__main__":
    main()
