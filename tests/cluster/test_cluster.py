"""The RabbitMQ cluster of scripts/brokers: three running nodes, quorum queues
declared through STOMP, and a node that is killed and rejoins."""

from __future__ import annotations

import pytest

from .conftest import NODES, Cluster, node_name

QUORUM = {"x-queue-type": "quorum"}
WAIT = 30.0  # bound for a receipt or a message; never reached when things work


def publish(cluster: Cluster, node: int, queue: str, body: bytes) -> None:
    """SEND one persistent message through `node`, declaring the queue as a quorum queue."""
    with cluster.connection(node) as conn:
        conn.send(queue, body, headers={**QUORUM, "persistent": "true"}, receipt=True, timeout=WAIT)


def consume_one(cluster: Cluster, node: int, queue: str) -> bytes:
    """Take one message from `queue` through `node`, acknowledged once received."""
    with cluster.connection(node) as conn:
        conn.subscribe(queue, ack="client-individual", headers={**QUORUM, "prefetch-count": "1"}, receipt=True, timeout=WAIT)
        message = conn.receive(timeout=WAIT)
        assert message is not None, f"no message from {queue} on node {node} within {WAIT}s"
        conn.ack(message, receipt=True, timeout=WAIT)
        return message.body


def queue_row(cluster: Cluster, node: int, queue: str) -> dict[str, str]:
    """The queue as rabbitmqctl on `node` lists it: name, type, members."""
    row = cluster.queue_row(node, queue, "type", "members")
    assert row is not None, f"node {node} lists no queue {queue}"
    return row


@pytest.mark.broker
def test_three_nodes_run_as_one_cluster(cluster):
    status = cluster.status()
    assert status.exit_code == 0, status.text
    assert status.running == set(NODES), status.text
    assert status.members == tuple(node_name(n) for n in NODES), status.text
    assert status.running_members == status.members, status.text


@pytest.mark.broker
def test_every_node_answers_stomp_connect(cluster):
    for node in NODES:
        with cluster.connection(node) as conn:
            assert conn.url.endswith(f"@127.0.0.1:{61700 + node}"), conn.url
            assert conn.server.startswith("RabbitMQ/"), conn.server


@pytest.mark.broker
def test_a_quorum_queue_declared_through_stomp_carries_a_message_from_node_1_to_node_3(cluster, quorum_queue):
    body = b"published on node 1\x00with a NUL"
    publish(cluster, 1, quorum_queue, body)

    row = queue_row(cluster, 2, quorum_queue)  # a third node sees the same queue
    assert row["type"] == "quorum"
    for node in NODES:
        assert node_name(node) in row["members"], row

    assert consume_one(cluster, 3, quorum_queue) == body


@pytest.mark.broker
def test_a_killed_node_is_reported_down_and_rejoins_when_restarted(cluster, quorum_queue):
    try:
        assert "SIGKILL" in cluster.kill(2)
        down = cluster.status()
        assert down.exit_code != 0, down.text
        assert down.running == {1, 3}, down.text
        assert node_name(2) in down.members, down.text  # still a member ...
        assert node_name(2) not in down.running_members, down.text  # ... but not running

        # Two of three replicas are a majority: the quorum queue keeps working.
        publish(cluster, 1, quorum_queue, b"while node 2 is down")
        assert consume_one(cluster, 3, quorum_queue) == b"while node 2 is down"
    finally:
        cluster.restart(2)

    up = cluster.status()
    assert up.exit_code == 0, up.text
    assert up.running == set(NODES), up.text
    assert up.running_members == tuple(node_name(n) for n in NODES), up.text
