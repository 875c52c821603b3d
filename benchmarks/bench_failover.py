"""How long `stomper send` takes to fail over when its RabbitMQ node dies, and how many messages arrive twice.

    eval "$(scripts/brokers env)"; scripts/brokers start rabbitmq-cluster
    flock /tmp/stomper-cluster.lock .venv/bin/python benchmarks/bench_failover.py --rounds 3

Each round publishes N messages (-n, default 30,000) to a fresh quorum queue
through the sender `stomper send --lines` uses (PipelinedSender with a
Failover, receipts every --batch messages, the three cluster URLs), SIGKILLs
the node it is connected to once a third is confirmed, and lets it finish.
It prints:

- failover time: from the kill command to the first receipt confirmed on
  the new node (detecting the loss, reconnecting, sending the unconfirmed
  messages again, the new node taking them: a quorum queue whose leader
  died elects another first);
- re-sent: the messages `send` sent again; duplicates: those found twice when
  the queue is drained from a surviving node (never more than re-sent);
  missing: messages not found (always 0, or the round fails).

The killed node is restarted after each round (the cluster is left with its
three nodes running). Run it under the lock the cluster tests take, so that
no one else kills a node meanwhile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from stomper.connection import Connection
from stomper_cli.send import Failover, PipelinedSender

BROKERS = Path(__file__).resolve().parents[1] / "scripts" / "brokers"
QUORUM = [("x-queue-type", "quorum"), ("persistent", "true")]
WAIT = 120.0


def cluster_urls() -> list[str]:
    urls = os.environ.get("STOMPER_CLUSTER_URLS", "").split()
    if len(urls) != 3:
        sys.exit("STOMPER_CLUSTER_URLS is not set: eval \"$(scripts/brokers env)\" and scripts/brokers start rabbitmq-cluster")
    return urls


def brokers(*args: str) -> None:
    subprocess.run([str(BROKERS), *args], check=True, capture_output=True, timeout=300)


class TimedSender(PipelinedSender):
    """The CLI's sender, noting when the first receipt after a failover confirmed something."""

    reconnected_at: float | None = None
    first_confirmed_after: float | None = None

    def _confirmed(self, covered: int) -> None:
        super()._confirmed(covered)
        if self.reconnected_at is not None and self.first_confirmed_after is None:
            self.first_confirmed_after = time.monotonic()


def one_round(urls: list[str], count: int, batch: int) -> dict:
    queue = f"/queue/bench-failover-{uuid.uuid4().hex[:12]}"
    conn = Connection(urls)
    conn.connect()
    port = conn.url.rsplit(":", 1)[1]
    node = next(index for index, url in enumerate(urls, 1) if url.rsplit(":", 1)[1] == port)
    failover = Failover(60.0)
    sender = TimedSender(conn, queue, QUORUM, None, None, True, batch, receipt_timeout=WAIT, failover=failover)

    def note(text: str) -> None:
        if sender.reconnected_at is None:
            sender.reconnected_at = time.monotonic()
        print(f"  {text}", flush=True)

    failover.note = note
    sender.keep()
    failed: list[BaseException] = []

    def publish() -> None:
        try:
            with conn.batch():
                for number in range(count):
                    sender.send(b"%d" % number, number == count - 1)
            sender.finish()
        except BaseException as error:  # reported by the main thread
            failed.append(error)

    thread = threading.Thread(target=publish)
    thread.start()
    while sender.confirmed < count // 3 and thread.is_alive():
        time.sleep(0.01)
    killed_at = time.monotonic()
    brokers("kill", "rabbitmq-cluster", str(node))
    try:
        thread.join(WAIT * 3)
        if failed:
            raise failed[0]
        conn.disconnect()
        survivor = urls[node % 3]
        found: Counter = Counter()
        with Connection(survivor, heart_beat=(0, 0)) as drain:
            drain.subscribe(queue, headers={"x-queue-type": "quorum", "prefetch-count": "1000"}, receipt=True, timeout=WAIT)
            while (message := drain.receive(timeout=5)) is not None:
                found[message.body] += 1
    finally:
        brokers("restart", "rabbitmq-cluster", str(node))
    missing = count - len(found)
    if sender.first_confirmed_after is None or missing:
        raise SystemExit(f"round failed: {missing} missing, first confirmation after the failover: {sender.first_confirmed_after}")
    return {"node": node, "failover": sender.first_confirmed_after - killed_at, "resent": sender.resent,
            "duplicates": sum(found.values()) - len(found), "missing": missing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    urls = cluster_urls()
    rounds = []
    print(f"{args.count} messages per round, receipts every {args.batch}, node killed after a third confirmed")
    for number in range(1, args.rounds + 1):
        result = one_round(urls, args.count, args.batch)
        rounds.append(result)
        print(f"round {number}: node {result['node']} killed; failover {result['failover']:.2f} s; "
              f"re-sent {result['resent']}; duplicates {result['duplicates']}; missing {result['missing']}", flush=True)
    times = [result["failover"] for result in rounds]
    print(f"failover time: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s; "
          f"duplicates: {sum(result['duplicates'] for result in rounds)} of {sum(result['resent'] for result in rounds)} re-sent")


if __name__ == "__main__":
    main()
