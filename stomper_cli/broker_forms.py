"""What differs between brokers for a subscriber: the header names of prefetch limits and durable subscriptions.

STOMP leaves both to the broker, so each broker has its own headers. The
broker is told apart by the `server` header of CONNECTED; a broker not
recognised gets the headers of RabbitMQ and ActiveMQ together (each broker
ignores the other's).
"""

from __future__ import annotations

RABBITMQ = "RabbitMQ"
ACTIVEMQ = "ActiveMQ Classic"
ARTEMIS = "ActiveMQ Artemis"
UNKNOWN = "unknown"

#: Header naming the most unacknowledged messages the broker pushes ahead to a subscription.
PREFETCH_HEADERS = {RABBITMQ: ("prefetch-count",), ACTIVEMQ: ("activemq.prefetchSize",), ARTEMIS: ()}
PREFETCH_HEADERS[UNKNOWN] = PREFETCH_HEADERS[RABBITMQ] + PREFETCH_HEADERS[ACTIVEMQ]


def broker_kind(server: str) -> str:
    """RABBITMQ, ACTIVEMQ, ARTEMIS or UNKNOWN from the CONNECTED `server` header ("RabbitMQ/3.13.7", "ActiveMQ/5.18.3")."""
    name = server.split("/", 1)[0].strip().lower()
    if name == "rabbitmq":
        return RABBITMQ
    if "artemis" in name:
        return ARTEMIS
    if name == "activemq":
        return ACTIVEMQ
    return UNKNOWN


def prefetch_headers(kind: str, limit: int) -> dict[str, str]:
    """The subscription headers that limit the broker to `limit` unacknowledged messages in flight."""
    return {name: str(limit) for name in PREFETCH_HEADERS[kind]}

#: Brokers that keep a durable subscription per client id, which CONNECT must then carry.
NEEDS_CLIENT_ID = frozenset({ACTIVEMQ, ARTEMIS})


def durable_headers(kind: str, name: str) -> dict[str, str]:
    """The SUBSCRIBE headers of a durable subscription NAME in the broker's form (the id is NAME as well)."""
    rabbitmq = {"durable": "true", "auto-delete": "false"}
    activemq = {"activemq.subscriptionName": name}
    if kind == RABBITMQ:
        return rabbitmq
    if kind == ACTIVEMQ:
        return activemq
    if kind == ARTEMIS:
        return {"durable-subscription-name": name}
    return rabbitmq | activemq


def removal_headers(kind: str, name: str) -> dict[str, str]:
    """The UNSUBSCRIBE headers that end durable subscription NAME, not only this connection's use of it."""
    rabbitmq = {"durable": "true", "persistent": "true"}
    if kind == RABBITMQ:
        return rabbitmq
    if kind == ARTEMIS:
        return {"durable-subscription-name": name}
    activemq = {"activemq.subscriptionName": name}
    return activemq if kind == ACTIVEMQ else rabbitmq | activemq


def removes_own_subscription(kind: str) -> bool:
    """Whether the broker removes a durable subscription only through a subscription of the same connection (RabbitMQ).

    ActiveMQ refuses to remove one that a connection is using, so there the
    removal is sent without subscribing first.
    """
    return kind in (RABBITMQ, UNKNOWN)


def describe(headers: dict[str, str]) -> str:
    """Headers as `name:value` words, for a line under -v."""
    return ", ".join(f"{name}:{value}" for name, value in headers.items())
