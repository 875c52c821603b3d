"""Trying broker endpoints in order, with backoff between attempts.

`first_to_answer(endpoints, attempt, ...)` calls `attempt(endpoint)` on each
endpoint in turn until one returns. Once through the list (connecting), or
again and again until a time limit (reconnecting), sleeping between
attempts for the delays a `Backoff` gives. Clock, sleep and randomness
are parameters, so tests run it with none of them real.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, TypeVar

from .errors import BrokerError, ConnectFailed, ConnectionLost
from .url import Endpoint

T = TypeVar("T")


class Backoff(NamedTuple):
    """Delays between connection attempts: `initial` seconds, times `factor` each time, at most `maximum`.

    Each delay is scaled by a random factor between 1 - `jitter` and 1, so
    that clients that lost the same broker do not all come back at once.
    """

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 5.0
    jitter: float = 0.5

    def delays(self, random: Callable[[], float] = _random.random) -> Iterator[float]:
        """The delay before each attempt after the first, forever."""
        delay = self.initial
        while True:
            yield delay * (1 - self.jitter * random())
            delay = min(delay * self.factor, self.maximum)


#: 0.1 s doubling to 5 s, each scaled by a random factor from 0.5 to 1.
DEFAULT_BACKOFF = Backoff()


class ReconnectBudget:
    """How long reconnecting may go on across losses: `timeout` from the first loss, renewed by a connection that
    stayed up that long, or by progress the caller reports (a confirmation).

    Without it each loss would start a fresh timeout, and a peer that takes
    every connection and soon drops it again would keep the client
    reconnecting forever.
    """

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self.deadline: float | None = None
        self.connected_at = clock()

    def lost(self) -> float:
        """A connection was lost: the time by which reconnecting must succeed (already past when it has run out)."""
        now = self.clock()
        if self.deadline is None or now - self.connected_at >= self.timeout:
            self.deadline = now + self.timeout
        return self.deadline

    def connected(self) -> None:
        self.connected_at = self.clock()

    def progressed(self) -> None:
        """The peer confirmed something: the next loss gets the whole timeout again."""
        self.deadline = None


def first_to_answer(
    endpoints: Sequence[Endpoint],
    attempt: Callable[[Endpoint], T],
    *,
    retry_for: float | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    random: Callable[[], float] = _random.random,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    cancelled: Callable[[], bool] = lambda: False,
) -> T:
    """The result of the first `attempt(endpoint)` that succeeds.

    `attempt` raises ConnectFailed for an endpoint that cannot be reached
    and BrokerError for one that refused. With `retry_for` None the list is
    tried once and a refusal ends it at once (credentials will not improve);
    otherwise it is tried again until `retry_for` seconds have passed (a
    restarting broker may refuse for a moment), and `cancelled()` stops it
    with ConnectionLost. Raises ConnectFailed naming every failure, or the
    last one when retrying.
    """
    failures: list[str] = []
    delays = backoff.delays(random)
    give_up = clock() + (retry_for or 0)
    first = True
    while True:
        for endpoint in endpoints:
            if not first:
                sleep(next(delays))
            first = False
            if retry_for is not None and cancelled():
                raise ConnectionLost("connection closed while reconnecting")
            try:
                return attempt(endpoint)
            except ConnectFailed as error:
                failures.append(str(error))
            except BrokerError as error:
                if retry_for is None:
                    raise
                failures.append(f"{endpoint}: {error}")
        if retry_for is None or clock() >= give_up:
            break
    raise _failed(failures, retry_for)


def _failed(failures: list[str], retry_for: float | None) -> ConnectFailed:
    if len(failures) == 1:
        return ConnectFailed(failures[0])
    if retry_for is None:
        return ConnectFailed("could not connect to any broker: " + "; ".join(f.removeprefix("could not connect to ") for f in failures))
    return ConnectFailed(f"could not reconnect within {retry_for:g} s; last error: {failures[-1]}")
