"""Failure injection for the fake: one-shot injections, error rates, latency and holds.

A fault normally answers instead of the method; a `Landed` fault answers after the method took
effect ("post, then answer 500"), as Slack does when it fails between doing and replying. A rule can
be limited to calls naming one channel.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from bot.fake_slack.models import Fault

ANY = "*"


def reply_hold(method: str) -> str:
    """The hold name that parks `method`'s reply after the call has taken effect."""
    return f"reply:{method}"


@dataclass
class Landed(Fault):
    """A fault answered after the call took effect: the message is posted, the reply is the fault."""


@dataclass
class _Injection:
    method: str
    fault: Fault
    remaining: int
    channel: str | None = None  # only calls naming this channel (None: any)


@dataclass
class _ErrorRate:
    fault: Fault
    ratio: float
    rng: random.Random


class _Hold:
    """A gate that blocks calls until released; counts waiters so tests can sync on them."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.drop = False
        self.waiting = 0


def make_fault(
    status: int | None,
    error: str | None,
    retry_after: int | None,
    disconnect: bool = False,
    after_effect: bool = False,
) -> Fault:
    if after_effect:
        fault = make_fault(status, error, retry_after, disconnect)
        return Landed(fault.status, fault.error, fault.retry_after, fault.disconnect, fault.extra_headers)
    if disconnect:
        return Fault(status=0, disconnect=True)
    if error is not None:
        return Fault(status=status or 200, error=error)
    if status is None or status == 200:
        raise ValueError("a fault needs an error, a non-200 status, or disconnect=True")
    if status == 429:
        # Slack always sends Retry-After with a 429; the SDK retry handler relies on it.
        return Fault(status=429, retry_after=1 if retry_after is None else retry_after)
    return Fault(status=status, retry_after=retry_after)


class Faults:
    """Thread-safe fault plan consulted once per incoming call.

    Explicit injections win over error rates; a wildcard ("*") rule never applies to the
    pseudo-methods used for upload and response URLs, so those only fail when named.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._injections: list[_Injection] = []
        self._rates: dict[tuple[str, str | None], _ErrorRate] = {}  # (method, channel)
        self._latency: dict[str | None, float] = {}
        self._holds: dict[str, _Hold] = {}
        self._hold_changed = threading.Condition(self._lock)

    def inject(self, method: str, fault: Fault, times: int, channel: str | None = None) -> None:
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._injections.append(_Injection(method, fault, times, channel))

    def set_error_rate(
        self, method: str, fault: Fault | None, ratio: float, seed: int, channel: str | None = None
    ) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("ratio must be within [0, 1]")
        with self._lock:
            if fault is None or ratio == 0.0:
                self._rates.pop((method, channel), None)
            else:
                self._rates[(method, channel)] = _ErrorRate(fault, ratio, random.Random(seed))

    def set_latency(self, seconds: float, method: str | None) -> None:
        with self._lock:
            if seconds <= 0:
                self._latency.pop(method, None)
            else:
                self._latency[method] = seconds

    def latency(self, method: str) -> float:
        # Dict reads are atomic under the GIL, so the hot path skips the lock.
        latency = self._latency
        if not latency:
            return 0.0
        return latency.get(method, latency.get(None, 0.0))

    def decide(self, method: str, wildcard: bool = True, channel: str | None = None) -> Fault | None:
        if not self._injections and not self._rates:
            return None
        methods = (method, ANY) if wildcard else (method,)
        with self._lock:
            for injection in self._injections:
                if injection.method in methods and injection.channel in (None, channel):
                    injection.remaining -= 1
                    if injection.remaining == 0:
                        self._injections.remove(injection)
                    return injection.fault
            for key in [(m, c) for m in methods for c in dict.fromkeys((channel, None))]:
                rate = self._rates.get(key)
                if rate is not None:
                    return rate.fault if rate.rng.random() < rate.ratio else None
        return None

    # -- holds -------------------------------------------------------------------------------------

    def hold(self, method: str) -> None:
        with self._lock:
            if method not in self._holds:
                self._holds[method] = _Hold()

    def release(self, method: str | None, drop: bool) -> None:
        with self._lock:
            names = list(self._holds) if method is None else [method]
            for name in names:
                hold = self._holds.pop(name, None)
                if hold is not None:
                    hold.drop = drop
                    hold.gate.set()

    def wait_if_held(self, method: str, wildcard: bool = True) -> bool:
        """Block while `method` is held; returns True when the held call must be dropped."""
        if not self._holds:
            return False
        with self._lock:
            hold = self._holds.get(method) or (self._holds.get(ANY) if wildcard else None)
            if hold is None:
                return False
            hold.waiting += 1
            self._hold_changed.notify_all()
        hold.gate.wait()
        return hold.drop

    def held_count(self, method: str) -> int:
        with self._lock:
            hold = self._holds.get(method)
            return 0 if hold is None else hold.waiting

    def wait_held(self, method: str, count: int, timeout: float) -> bool:
        with self._lock:
            return self._hold_changed.wait_for(
                lambda: method in self._holds and self._holds[method].waiting >= count, timeout
            )

    def clear(self) -> None:
        self.release(None, drop=False)
        with self._lock:
            self._injections.clear()
            self._rates.clear()
            self._latency.clear()
