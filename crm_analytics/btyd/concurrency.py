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
off, for the whole process (the filters are process-wide); the last thread out puts both back.
``contextlib.redirect_stdout`` and ``warnings.catch_warnings`` are not safe here: each thread
restores what it saw on entry, so overlapping sections can leave the process with its output
swallowed. A router left behind (something else swapped ``sys.stdout`` meanwhile and put the
router back later) only passes text through to the stream it wraps.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO, TypeVar

__all__ = ["FIT_THREADS_ENV", "fit_threads", "quiet_section", "run_side_by_side"]

# The environment variable that caps the fitting threads (README, "Scale and benchmarks").
FIT_THREADS_ENV = "CRM_FIT_THREADS"

_Result = TypeVar("_Result")


def fit_threads(environ: Mapping[str, str] | None = None) -> int:
    """How many fits may run at once: ``CRM_FIT_THREADS`` if set, else the cores this process
    may run on (its CPU affinity, where the platform reports it).

    Raises:
        ValueError: naming the variable and its value, when it is not a whole number >= 1.
    """
    values = os.environ if environ is None else environ
    text = values.get(FIT_THREADS_ENV, "").strip()
    if not text:
        return _usable_cores()
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{FIT_THREADS_ENV} must be a whole number >= 1, got {text!r}")
    return threads


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_side_by_side(
    calls: Sequence[Callable[[], _Result]], max_workers: int | None = None
) -> list[_Result]:
    """Run zero-argument ``calls`` on up to ``max_workers`` threads (default `fit_threads`).

    Returns their results in the order of ``calls``. With one call or one worker the calls run
    one after another on the calling thread. When calls fail, the first failure in the order of
    ``calls`` is raised, as it would be one after another: the calls before it are waited for,
    the calls after it that have not started are cancelled, and the ones already running are
    waited for (a thread cannot be stopped) before the exception leaves this function.
    """
    workers = min(len(calls), fit_threads() if max_workers is None else max_workers)
    if workers <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crm-fit") as pool:
        futures = [pool.submit(call) for call in calls]
        results: list[_Result] = []
        for index, future in enumerate(futures):
            try:
                results.append(future.result())
            except BaseException:
                for later in futures[index + 1 :]:
                    later.cancel()
                raise
        return results


class _RoutedStdout(io.TextIOBase):
    """``sys.stdout`` while a quiet section is open: text from a thread inside a section goes to
    its buffer, any other text to the stream that was ``sys.stdout`` before (nowhere if that was
    None); everything else a stream has (``fileno``, ``encoding``, ``isatty``, ...) is that
    stream's."""

    def __init__(self, stream: TextIO | None, buffers: dict[int, io.StringIO]) -> None:
        super().__init__()
        self._stream = stream
        self._buffers = buffers

    def write(self, text: str) -> int:
        buffer = self._buffers.get(threading.get_ident())
        if buffer is not None:
            return buffer.write(text)
        if self._stream is None:
            return len(text)
        return self._stream.write(text)

    def flush(self) -> None:
        if threading.get_ident() not in self._buffers and self._stream is not None:
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self._stream is None:
            raise io.UnsupportedOperation("sys.stdout was None")
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def __getattr__(self, name: str) -> object:
        # only reached for what TextIOBase does not define (buffer, name, reconfigure, ...)
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


class _QuietState:
    """The state of the quiet sections: one instance per process (`_QUIET`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0  # threads (and nested sections) inside
        self.buffers: dict[int, io.StringIO] = {}  # thread ident -> its innermost buffer
        self.router: _RoutedStdout | None = None
        self.warning_filters: warnings.catch_warnings | None = None


_QUIET = _QuietState()


@contextlib.contextmanager
def quiet_section(buffer: io.StringIO) -> Iterator[None]:
    """Within the block, what this thread prints goes to ``buffer``; warnings are off for the
    whole process while any section is open (the warning filters are process-wide).

    Safe to enter from several threads at once and to nest on one thread (the inner buffer
    receives the text until it exits). When the last section closes, ``sys.stdout`` and the
    warning filters are put back as they were when the first one opened; if something else
    replaced ``sys.stdout`` meanwhile, its replacement is left in place.
    """
    ident = threading.get_ident()
    state = _QUIET
    with state.lock:
        if state.depth == 0:
            state.router = _RoutedStdout(sys.stdout, state.buffers)
            sys.stdout = state.router
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
                router, state.router = state.router, None
                if router is not None and sys.stdout is router:
                    sys.stdout = router._stream
                filters, state.warning_filters = state.warning_filters, None
                if filters is not None:
                    filters.__exit__(None, None, None)
