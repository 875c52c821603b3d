"""stomper.failover: endpoints tried in order with backoff, with a made-up clock, sleep and randomness."""

from __future__ import annotations

import itertools

import pytest

from stomper.errors import BrokerError, ConnectFailed, ConnectionLost
from stomper.failover import Backoff, ReconnectBudget, first_to_answer
from stomper.frame import Frame
from stomper.url import parse_url

A, B = parse_url("stomp://u:pw@a:1"), parse_url("stomp://u:pw@b:2")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(outcomes):
    """An attempt that raises (or returns) the next outcome for each endpoint tried, recording the order."""
    tried = []
    queue = iter(outcomes)

    def attempt(endpoint):
        tried.append(endpoint.host)
        outcome = next(queue)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt, tried


def test_backoff_grows_by_its_factor_up_to_its_maximum_with_jitter():
    delays = Backoff(initial=1.0, factor=3.0, maximum=10.0, jitter=0.5).delays(itertools.cycle([0.0, 1.0]).__next__)
    assert list(itertools.islice(delays, 5)) == [1.0, 1.5, 9.0, 5.0, 10.0]


def test_the_first_endpoint_that_answers_wins_and_the_delays_come_between_attempts():
    clock = Clock()
    attempt, tried = failing([ConnectFailed("could not connect to a: refused"), "connected to b"])
    result = first_to_answer([A, B], attempt, backoff=Backoff(0.1, 2.0, 5.0, 0.5), random=lambda: 0.0, sleep=clock.sleep, clock=lambda: clock.now)
    assert result == "connected to b" and tried == ["a", "b"] and clock.slept == [0.1]


def test_one_pass_lists_every_failure():
    attempt, _ = failing([ConnectFailed("could not connect to a: refused"), ConnectFailed("could not connect to b: timed out")])
    with pytest.raises(ConnectFailed, match=r"^could not connect to any broker: a: refused; b: timed out$"):
        first_to_answer([A, B], attempt, sleep=lambda _: None)


def test_a_refusal_ends_a_single_pass_at_once():
    refusal = BrokerError(Frame("ERROR", {"message": "bad login"}), "broker refused the connection")
    attempt, tried = failing([refusal])
    with pytest.raises(BrokerError):
        first_to_answer([A, B], attempt, sleep=lambda _: None)
    assert tried == ["a"]


def test_retrying_goes_round_until_the_time_is_up_and_names_the_last_error():
    clock = Clock()
    refusal = BrokerError(Frame("ERROR", {"message": "starting"}), "broker refused the connection")
    outcomes = itertools.cycle([ConnectFailed("could not connect to a: refused"), refusal])
    attempt, tried = failing(outcomes)
    with pytest.raises(ConnectFailed, match=r"^could not reconnect within 1 s; last error: stomp://u:\*\*\*@b:2: broker refused"):
        first_to_answer([A, B], attempt, retry_for=1.0, backoff=Backoff(0.25, 1.0, 0.25, 0.0), sleep=clock.sleep, clock=lambda: clock.now)
    assert tried == ["a", "b"] * 3 and clock.slept == [0.25] * 5  # passes start at 0, 0.5 and 1.0 s


def test_cancelling_stops_a_retry():
    attempt, tried = failing([])
    with pytest.raises(ConnectionLost, match="closed while reconnecting"):
        first_to_answer([A], attempt, retry_for=10.0, cancelled=lambda: True, sleep=lambda _: None)
    assert tried == []


def test_the_reconnect_budget_runs_from_the_first_loss_until_a_connection_lasts_or_progress_is_reported():
    now = [0.0]
    budget = ReconnectBudget(60.0, clock=lambda: now[0])
    now[0] = 100.0
    assert budget.lost() == 160.0  # the first loss starts it
    for now[0] in (110.0, 150.0):  # connections that drop again within the timeout: the same deadline
        budget.connected()
        now[0] += 5.0
        assert budget.lost() == 160.0
    budget.connected()  # at 155: this one lasts 70 s, so the next loss starts a fresh timeout
    now[0] = 225.0
    assert budget.lost() == 285.0
    budget.connected()
    now[0] = 230.0
    budget.progressed()  # a confirmation in between
    assert budget.lost() == 290.0
