"""`stomper subscribe` with the cluster's three URLs rides through the loss of the node it reads from.

A quorum queue is declared and filled through node 1 (so its leader is
there), `subscribe -n 20000` starts on node 1 (the first URL), and node 1 is
SIGKILLed mid-stream. The command must reconnect to another node, subscribe
again, and exit 0 having lost nothing: every message is written at least
once, or, if the broker delivered again a message whose acknowledgement it
had confirmed (which stomper cannot tell from a new one, so it counts it),
is still on the queue, never acknowledged.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import NODES, Cluster

QUORUM = {"x-queue-type": "quorum"}
TOTAL = 20_000
WAIT = 60.0


def fill(cluster: Cluster, node: int, queue: str, total: int) -> None:
    """Publish bodies 0..total-1 as persistent messages through `node`, declaring the quorum queue; confirmed by a receipt."""
    with cluster.connection(node) as conn:
        headers = {**QUORUM, "persistent": "true"}
        with conn.batch():
            for number in range(total - 1):
                conn.send(queue, b"%d" % number, headers=headers)
        conn.send(queue, b"%d" % (total - 1), headers=headers, receipt=True, timeout=WAIT)


def still_queued(cluster: Cluster, node: int, queue: str, wanted: set[str]) -> set[str]:
    """The bodies of `wanted` still on `queue`, read through `node` until all came or none came for WAIT seconds."""
    found: set[str] = set()
    if not wanted:
        return found
    with cluster.connection(node) as conn:
        conn.subscribe(queue, ack="auto", headers=QUORUM)
        while not wanted <= found:
            message = conn.receive(timeout=WAIT)
            if message is None:
                break
            found.add(message.body.decode())
    return found & wanted


def lines_in(path: Path) -> int:
    with path.open("rb") as file:
        return file.read().count(b"\n")


@pytest.fixture
def node_1_restored(cluster: Cluster):
    """Node 1 runs again after the test, whatever happened in it (the cluster is left as it was found)."""
    yield cluster
    if 1 not in cluster.status().running:
        cluster.restart(1)
    status = cluster.status()
    assert status.running == set(NODES), status.text


@pytest.mark.broker
@pytest.mark.parametrize("ack", ["client", "client-individual"])
def test_subscribe_writes_every_message_when_its_node_is_killed_mid_stream(node_1_restored, quorum_queue, tmp_path, ack):
    cluster = node_1_restored
    fill(cluster, 1, quorum_queue, TOTAL)
    output, errors = tmp_path / "out", tmp_path / "err"
    urls = [option for url in cluster.urls for option in ("--url", url)]
    command = [sys.executable, "-m", "stomper_cli", "subscribe", *urls, quorum_queue, "-n", str(TOTAL), "--ack", ack,
               "--body-only", "-H", "x-queue-type:quorum", "--timeout", "120", "--reconnect-timeout", "120"]
    with output.open("wb") as stdout, errors.open("wb") as stderr:
        subscriber = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        try:
            deadline = time.monotonic() + 120
            while lines_in(output) < TOTAL // 4 and subscriber.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert subscriber.poll() is None, "the subscriber ended before the node was killed: nothing was tested"
            written_before = lines_in(output)
            cluster.kill(1)
            status = subscriber.wait(timeout=400)
        finally:
            if subscriber.poll() is None:
                subscriber.kill()
                subscriber.wait()
    assert written_before < TOTAL
    assert status == 0, errors.read_text()
    written = output.read_bytes().decode().splitlines()
    assert set(written) <= {str(number) for number in range(TOTAL)}
    assert len(written) >= TOTAL  # those written but not acknowledged before the loss may be written twice
    not_written = {str(number) for number in range(TOTAL)} - set(written)
    assert still_queued(cluster, 2, quorum_queue, not_written) == not_written  # none lost
