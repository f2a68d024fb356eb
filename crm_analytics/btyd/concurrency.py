"""Fitting models side by side on threads, and keeping their output quiet while they run.

A dataset's models are independent fits on the same rows (the backtest fits three transaction
models; the production fit a transaction model and Gamma-Gamma). Their time goes to numpy
calls on whole columns, which release Python's global lock, so threads run them side by side
on separate cores; each fit still runs exactly the same arithmetic as alone, so the estimates
are identical to the last bit whatever the number of threads.

Threads share ``sys.stdout`` and the warning filters. ``lifetimes`` prints scipy's result before
it raises ``ConvergenceError``, and the fits warn about overflows they recover from; each fit
needs its own copy of what it printed, and nobody else's. `quiet_section` does both safely:
the first thread in replaces ``sys.stdout`` with a router (text from a thread inside the
section goes to that thread's buffer, any other text to the real stream) and turns warnings
off; the last thread out puts both back. ``contextlib.redirect_stdout`` and
``warnings.catch_warnings`` are not safe here: each thread restores what it saw on entry, so
overlapping sections can leave the process with its output swallowed.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO, TypeVar

__all__ = ["FIT_THREADS_ENV", "fit_threads", "quiet_section", "run_side_by_side"]

# The environment variable that caps the fitting threads (README, "Scale and benchmarks").
FIT_THREADS_ENV = "CRM_FIT_THREADS"

_Result = TypeVar("_Result")


def fit_threads(environ: dict[str, str] | None = None) -> int:
    """How many fits may run at once: ``CRM_FIT_THREADS`` if set, else the number of cores.

    Raises:
        ValueError: naming the variable and its value, when it is not a whole number >= 1.
    """
    values = os.environ if environ is None else environ
    text = values.get(FIT_THREADS_ENV, "").strip()
    if not text:
        return max(1, os.cpu_count() or 1)
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{FIT_THREADS_ENV} must be a whole number >= 1, got {text!r}")
    return threads


def run_side_by_side(
    calls: Sequence[Callable[[], _Result]], max_workers: int | None = None
) -> list[_Result]:
    """Run zero-argument ``calls`` on up to ``max_workers`` threads (default `fit_threads`).

    Returns their results in the order of ``calls``. With one call or one worker the calls run
    one after another on the calling thread. An exception from a call is raised here, the
    first one in the order of ``calls``, after every call has finished.
    """
    workers = min(len(calls), fit_threads() if max_workers is None else max_workers)
    if workers <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crm-fit") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


class _RoutedStdout(io.TextIOBase):
    """``sys.stdout`` while fits run: each thread inside a quiet section writes to its buffer."""

    def __init__(self, stream: TextIO, buffers: dict[int, io.StringIO]) -> None:
        super().__init__()
        self._stream = stream
        self._buffers = buffers

    def _target(self) -> TextIO:
        return self._buffers.get(threading.get_ident(), self._stream)

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True


class _QuietState:
    """The state of the quiet sections: one instance per process (`_QUIET`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0  # threads (and nested sections) inside
        self.buffers: dict[int, io.StringIO] = {}  # thread ident -> its innermost buffer
        self.real_stdout: TextIO | None = None
        self.warning_filters: warnings.catch_warnings | None = None


_QUIET = _QuietState()


@contextlib.contextmanager
def quiet_section(buffer: io.StringIO) -> Iterator[None]:
    """Within the block, what this thread prints goes to ``buffer`` and warnings are off.

    Safe to enter from several threads at once and to nest on one thread (the inner buffer
    receives the text until it exits).
    """
    ident = threading.get_ident()
    state = _QUIET
    with state.lock:
        if state.depth == 0:
            state.real_stdout = sys.stdout
            sys.stdout = _RoutedStdout(sys.stdout, state.buffers)
            state.warning_filters = warnings.catch_warnings()
            state.warning_filters.__enter__()
            warnings.simplefilter("ignore")
        state.depth += 1
        outer = state.buffers.get(ident)
        state.buffers[ident] = buffer
    try:
        yield
    finally:
        with state.lock:
            if outer is None:
                del state.buffers[ident]
            else:
                state.buffers[ident] = outer
            state.depth -= 1
            if state.depth == 0:
                sys.stdout = state.real_stdout
                assert state.warning_filters is not None
                state.warning_filters.__exit__(None, None, None)
                state.real_stdout = None
                state.warning_filters = None
