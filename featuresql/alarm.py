"""A time limit for pure-Python work, by timer signal."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deadline(seconds: float | None, error: Callable[[], BaseException]) -> Iterator[None]:
    """Raise `error()` inside the block once it has run `seconds`.

    A timer signal is the one interruption that reaches a pure-Python loop (a
    nest of Jinja `range()` loops calls nothing we could check). It only works in
    the main thread, and one timer at a time: elsewhere, without `seconds`, or
    inside an outer deadline, the block runs without a limit of its own. Code in
    compiled extensions is not interrupted until it returns to Python.
    """
    if (not seconds or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise error()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
