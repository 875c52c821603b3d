"""Builders for every client frame, each right for the version it targets.

Each returns a `Frame`; call `.encode(version)` for the wire bytes. `headers`
adds extra headers (a builder's own headers win over them). Optional values
left as None are simply not sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from .errors import FrameError
from .frame import DEFAULT_VERSION, Frame
from .versions import ACK_MODES, check_ack_mode, check_command, spec

__all__ = [
    "ACK_MODES", "abort", "ack", "begin", "commit", "connect", "disconnect", "format_heart_beat", "nack", "next_id",
    "send", "subscribe", "unsubscribe",
]
_ids = itertools.count(1)


def next_id(prefix: str) -> str:
    """A process-unique id such as 'sub-3', for subscriptions and receipts."""
    return f"{prefix}-{next(_ids)}"


def _frame(command: str, fields: Mapping[str, object], headers: Mapping[str, str] | None, body: bytes | str = b"") -> Frame:
    merged = dict(headers or {})
    merged.update((name, str(value)) for name, value in fields.items() if value is not None)
    return Frame(command, merged, body)


def format_heart_beat(heart_beat: tuple[int, int] | str | None) -> str | None:
    """'cx,cy' from a pair of milliseconds, validated."""
    if heart_beat is None or isinstance(heart_beat, str):
        return heart_beat
    if len(heart_beat) != 2 or any(int(v) < 0 for v in heart_beat):
        raise FrameError(f"heart-beat must be two non-negative milliseconds, not {heart_beat!r}")
    return f"{int(heart_beat[0])},{int(heart_beat[1])}"


def connect(
    login: str | None = None,
    passcode: str | None = None,
    host: str | None = "/",
    heart_beat: tuple[int, int] | str | None = None,
    accept_version: str | None = None,
    version: str = DEFAULT_VERSION,
    command: str = "CONNECT",
    headers: Mapping[str, str] | None = None,
) -> Frame:
    """CONNECT (or STOMP, with command="STOMP").

    For 1.1 and 1.2, `accept-version` defaults to `version` and `host` is sent
    (the spec requires it; "/" is the default virtual host of RabbitMQ and is
    ignored by ActiveMQ). For 1.0 neither is sent unless asked for.
    """
    rules = spec(version)
    if command not in ("CONNECT", "STOMP"):
        raise FrameError(f"a connection starts with CONNECT or STOMP, not {command!r}")
    if command in rules.missing_commands:
        raise FrameError(f"STOMP {version} has no {command} command: use CONNECT")
    if rules.negotiates:
        accept_version = accept_version or version
    elif host == "/":
        host = None
    fields = {
        "accept-version": accept_version,
        "host": host,
        "login": login,
        "passcode": passcode,
        "heart-beat": format_heart_beat(heart_beat),
    }
    return _frame(command, fields, headers)


def send(
    destination: str,
    body: bytes | str = b"",
    content_type: str | None = None,
    transaction: str | None = None,
    receipt: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Frame:
    """SEND: the same in every version."""
    fields = {"destination": destination, "content-type": content_type, "transaction": transaction, "receipt": receipt}
    return _frame("SEND", fields, headers, body)


def subscribe(
    destination: str,
    id: str | None = None,
    ack: str = "auto",
    receipt: str | None = None,
    headers: Mapping[str, str] | None = None,
    version: str = DEFAULT_VERSION,
) -> Frame:
    """SUBSCRIBE; 1.1 and 1.2 require an id, so one is generated if missing."""
    check_ack_mode(ack, version)
    if id is None and spec(version).needs_subscription_id:
        id = next_id("sub")
    return _frame("SUBSCRIBE", {"destination": destination, "id": id, "ack": ack, "receipt": receipt}, headers)


def unsubscribe(
    id: str | None = None,
    destination: str | None = None,
    receipt: str | None = None,
    headers: Mapping[str, str] | None = None,
    version: str = DEFAULT_VERSION,
) -> Frame:
    """UNSUBSCRIBE by id (1.0 may also name the destination instead)."""
    by_id_only = spec(version).needs_subscription_id
    if id is None and (by_id_only or destination is None):
        raise FrameError(f"UNSUBSCRIBE in STOMP {version} needs the subscription id")
    fields = {"id": id, "destination": None if by_id_only else destination, "receipt": receipt}
    return _frame("UNSUBSCRIBE", fields, headers)


def _acknowledgement(
    command: str,
    message: Frame | None,
    id: str | None,
    subscription: str | None,
    transaction: str | None,
    receipt: str | None,
    headers: Mapping[str, str] | None,
    version: str,
) -> Frame:
    check_command(command, version)
    rules = spec(version)
    message_headers = message.headers if message is not None else {}
    id = id or rules.ack_id(message_headers)
    if id is None:
        raise FrameError(f"{command} needs the message's {rules.ack_source} header")
    fields: dict[str, str | None] = {rules.ack_header: id}
    if "subscription" in rules.ack_headers:
        fields["subscription"] = subscription or message_headers.get("subscription")
    fields.update(transaction=transaction, receipt=receipt)
    return _frame(command, fields, headers)


def ack(
    message: Frame | None = None,
    id: str | None = None,
    subscription: str | None = None,
    transaction: str | None = None,
    receipt: str | None = None,
    headers: Mapping[str, str] | None = None,
    version: str = DEFAULT_VERSION,
) -> Frame:
    """ACK a MESSAGE, in the version's form.

    1.2 sends `id` (the MESSAGE's `ack` header); 1.1 sends `message-id` and
    `subscription`; 1.0 sends `message-id` only. Pass the MESSAGE frame, or
    the id (and subscription for 1.1) directly.
    """
    return _acknowledgement("ACK", message, id, subscription, transaction, receipt, headers, version)


def nack(
    message: Frame | None = None,
    id: str | None = None,
    subscription: str | None = None,
    transaction: str | None = None,
    receipt: str | None = None,
    headers: Mapping[str, str] | None = None,
    version: str = DEFAULT_VERSION,
) -> Frame:
    """NACK a MESSAGE (1.1 and 1.2 only), with the same fields as `ack`."""
    return _acknowledgement("NACK", message, id, subscription, transaction, receipt, headers, version)


def _transaction_frame(command: str, transaction: str, receipt: str | None, headers: Mapping[str, str] | None) -> Frame:
    if not transaction:
        raise FrameError(f"{command} needs a transaction id")
    return _frame(command, {"transaction": transaction, "receipt": receipt}, headers)


def begin(transaction: str | None = None, receipt: str | None = None, headers: Mapping[str, str] | None = None) -> Frame:
    """BEGIN a transaction; an id is generated if none is given."""
    return _transaction_frame("BEGIN", transaction or next_id("tx"), receipt, headers)


def commit(transaction: str, receipt: str | None = None, headers: Mapping[str, str] | None = None) -> Frame:
    """COMMIT a transaction."""
    return _transaction_frame("COMMIT", transaction, receipt, headers)


def abort(transaction: str, receipt: str | None = None, headers: Mapping[str, str] | None = None) -> Frame:
    """ABORT a transaction."""
    return _transaction_frame("ABORT", transaction, receipt, headers)


def disconnect(receipt: str | None = None, headers: Mapping[str, str] | None = None) -> Frame:
    """DISCONNECT; ask for a receipt to know the broker has everything sent before."""
    return _frame("DISCONNECT", {"receipt": receipt}, headers)
