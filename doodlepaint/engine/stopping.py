"""Stop checks inside long steps, so that a cancel takes effect within a fraction of a second.

run_transfer checks its caller's `should_stop` between optimiser rounds and before every evaluation, but
single steps run for many seconds at print sizes or on a slow CPU: an encoder pass over a big painting
(building a patch bank), a backward pass, a patch match over thousands of chunks. Those call
`check_stop()` between layers and chunks; it raises `Stopped` when the render that runs on this thread
has been asked to stop, and `stoppable` ends that render quietly, as if it had stopped between rounds.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_running = threading.local()       # the should_stop of the render resumed on this thread, if any


class Stopped(Exception):
    """Raised at a check point when this thread's render has been asked to stop; `stoppable` catches it."""


def check_stop() -> None:
    should_stop = getattr(_running, "should_stop", None)
    if should_stop is not None and should_stop():
        raise Stopped


def stoppable(steps: Iterator[T], should_stop: Callable[[], bool]) -> Iterator[T]:
    """Run the generator `steps` with `should_stop` seen by check_stop() on this thread while it works (not
    while it waits at a yield, when the thread may run another render), ending quietly when it says stop."""
    try:
        while True:
            outer = getattr(_running, "should_stop", None)
            _running.should_stop = should_stop
            try:
                item = next(steps)
            except (StopIteration, Stopped):
                return
            finally:
                _running.should_stop = outer
            yield item
    finally:
        steps.close()
