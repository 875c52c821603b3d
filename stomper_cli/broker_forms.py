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
