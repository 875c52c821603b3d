"""The 3-node RabbitMQ cluster of `scripts/brokers start rabbitmq-cluster`.

The cluster costs about 400 MB and a share of the CPU, so the rest of the
suite does not carry it: the `cluster` fixture starts it for the tests that
ask for it and stops it after the last of them, unless it was already running
before (then it is left running, as found). The script uses the state
directory STOMPER_BROKERS_DIR names, like the single brokers.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stomper.connection import Connection

REPO = Path(__file__).resolve().parents[2]
BROKERS = REPO / "scripts" / "brokers"
NODES = (1, 2, 3)
START_TIMEOUT = 300  # seconds; scripts/brokers bounds its own wait at 120
SKIP_BROKERS = os.environ.get("STOMPER_SKIP_BROKERS", "") not in ("", "0")


def skip_unless_brokers_wanted() -> None:
    """STOMPER_SKIP_BROKERS=1 skips the real-broker tests, as everywhere in the suite."""
    if SKIP_BROKERS:
        pytest.skip("STOMPER_SKIP_BROKERS is set: real-broker tests skipped")


def brokers(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/brokers; the caller decides what its exit status means."""
    return subprocess.run([str(BROKERS), *args], capture_output=True, text=True, timeout=START_TIMEOUT, check=False)


def must(*args: str) -> str:
    """Run scripts/brokers and fail the test, with its output, unless it exits 0."""
    done = brokers(*args)
    if done.returncode != 0:
        pytest.fail(f"scripts/brokers {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}", pytrace=False)
    return done.stdout


def exported(name: str) -> str:
    """A variable from `scripts/brokers env`, so the tests and the script agree on ports."""
    for line in must("env").splitlines():
        match = re.fullmatch(rf"export {name}=(.*)", line)
        if match:
            return shlex.split(match.group(1))[0]
    raise AssertionError(f"scripts/brokers env prints no {name}")


@dataclass(frozen=True)
class ClusterStatus:
    """What `scripts/brokers status rabbitmq-cluster` reported."""

    exit_code: int
    running: frozenset[int]  # nodes whose process runs and answers STOMP CONNECT
    members: tuple[str, ...]  # as the first running node sees the cluster
    running_members: tuple[str, ...]
    text: str


def parse_status(done: subprocess.CompletedProcess[str]) -> ClusterStatus:
    running = frozenset(int(n) for n in re.findall(r"^rabbitmq-cluster node (\d): running ", done.stdout, re.M))
    view = re.search(r"sees it: members (.*); running (.*)$", done.stdout, re.M)
    members, running_members = (view.group(1).split(), view.group(2).split()) if view else ([], [])
    return ClusterStatus(done.returncode, running, tuple(members), tuple(running_members), done.stdout + done.stderr)


def node_name(node: int) -> str:
    return f"stomper-cluster{node}@localhost"


@dataclass(frozen=True)
class Cluster:
    urls: tuple[str, ...]

    def url(self, node: int) -> str:
        return self.urls[node - 1]

    def connection(self, node: int) -> Connection:
        """A connection to that node alone (no failover), without heart-beats."""
        return Connection(self.url(node), heart_beat=(0, 0), connect_timeout=10.0)

    def status(self) -> ClusterStatus:
        return parse_status(brokers("status", "rabbitmq-cluster"))

    def kill(self, node: int) -> str:
        """SIGKILL one node (a crash); its pid file stays, as after a real one."""
        return must("kill", "rabbitmq-cluster", str(node))

    def restart(self, node: int) -> str:
        """Start the node again and wait until it has rejoined the others."""
        return must("restart", "rabbitmq-cluster", str(node))

    def rabbitmqctl(self, node: int, *args: str) -> str:
        return must("cluster-rabbitmqctl", str(node), *args)

    def queue_row(self, node: int, queue: str, *columns: str) -> dict[str, str] | None:
        """The `columns` of `queue` as rabbitmqctl list_queues on `node` shows them; None when it lists no such queue."""
        name = queue.removeprefix("/queue/")
        for line in self.rabbitmqctl(node, "list_queues", "-q", "--no-table-headers", "name", *columns).splitlines():
            fields = line.split("\t")
            if fields[0] == name:
                return dict(zip(columns, fields[1:], strict=True))
        return None

    def declare_quorum_queue(self, queue: str, node: int = 1, wait: float = 120.0) -> None:
        """Declare `queue` as a quorum queue through `node` (so its leader is there), and wait until every member runs.

        A test that kills the leader then starts from a queue whose other two
        members can elect a new one, whatever the node was doing before.
        """
        with self.connection(node) as conn:
            conn.subscribe(queue, ack="auto", headers={"x-queue-type": "quorum"}, receipt=True, timeout=wait)
        asked = next(other for other in NODES if other != node)
        deadline = time.monotonic() + wait
        while True:
            online = (self.queue_row(asked, queue, "online") or {}).get("online", "")
            if online.count("@") == len(NODES):
                return
            assert time.monotonic() < deadline, f"{queue}: members online after {wait:g} s: {online or 'none'}"
            time.sleep(0.2)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The running cluster, all three nodes up; stopped at the end if the tests started it."""
    skip_unless_brokers_wanted()
    found_running = brokers("status", "rabbitmq-cluster").returncode == 0
    must("start", "rabbitmq-cluster")
    urls = tuple(exported("STOMPER_CLUSTER_URLS").split())
    assert len(urls) == len(NODES), urls
    try:
        yield Cluster(urls)
    finally:
        if not found_running:
            must("stop", "rabbitmq-cluster")


@pytest.fixture
def quorum_queue() -> str:
    """A fresh queue name (parallel runs never share one)."""
    return f"/queue/stomper-cluster-{uuid.uuid4().hex}"
