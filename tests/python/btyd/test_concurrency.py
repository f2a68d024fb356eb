"""Tests of crm_analytics.btyd.concurrency: fits side by side on threads, each with its own
captured output, and the process's stdout and warning filters intact afterwards."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
import warnings

import pytest

from crm_analytics.btyd.concurrency import (
    FIT_THREADS_ENV,
    fit_threads,
    quiet_section,
    run_side_by_side,
)

TIMEOUT = 30.0


def test_overlapping_quiet_sections_keep_each_threads_output_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Thread a enters, then b; a prints and leaves while b is still inside; b prints and
    leaves. With contextlib.redirect_stdout, a's text would land in b's buffer and the process
    would be left writing into a's buffer."""
    stdout_before = sys.stdout
    filters_before = list(warnings.filters)
    buffers = {"a": io.StringIO(), "b": io.StringIO()}
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    caught: list[str] = []

    def thread_a() -> None:
        with quiet_section(buffers["a"]):
            a_inside.set()
            assert b_inside.wait(TIMEOUT)
            print("from a")
            warnings.warn("a's warning", RuntimeWarning, stacklevel=1)
        a_left.set()

    def thread_b() -> None:
        assert a_inside.wait(TIMEOUT)
        with quiet_section(buffers["b"]):
            b_inside.set()
            assert a_left.wait(TIMEOUT)
            print("from b")
            with quiet_section(inner := io.StringIO()):
                print("nested in b")
            print("b again")
            caught.append(inner.getvalue())

    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
        for thread in threads:
            thread.start()
        assert b_inside.wait(TIMEOUT)
        print("from the main thread")
        for thread in threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in threads)
        warnings.warn("after the sections", UserWarning, stacklevel=1)

    assert buffers["a"].getvalue() == "from a\n"
    assert buffers["b"].getvalue() == "from b\nb again\n"
    assert caught == ["nested in b\n"]
    assert sys.stdout is stdout_before
    assert warnings.filters == filters_before
    # the warning inside a section was silenced; the one after it was not
    assert [str(warning.message) for warning in recorded] == ["after the sections"]
    assert capsys.readouterr().out == "from the main thread\n"


def test_run_side_by_side_runs_calls_at_once_and_keeps_their_order() -> None:
    # each call waits for the other: run one after another, the barrier would break
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def call(value: int) -> int:
        barrier.wait()
        return value * 10

    assert run_side_by_side([lambda: call(1), lambda: call(2)], max_workers=2) == [10, 20]


def test_run_side_by_side_raises_the_first_failure_in_call_order() -> None:
    second_failed = threading.Event()

    def first() -> int:
        # fails only after the second call has failed
        assert second_failed.wait(TIMEOUT)
        raise ValueError("first")

    def second() -> int:
        second_failed.set()
        raise KeyError("second")

    with pytest.raises(ValueError, match="first"):
        run_side_by_side([first, second], max_workers=2)


def test_one_worker_runs_the_calls_in_order_on_the_calling_thread() -> None:
    seen: list[tuple[int, int]] = []

    def call(value: int) -> int:
        seen.append((value, threading.get_ident()))
        return value

    assert run_side_by_side([lambda: call(1), lambda: call(2)], max_workers=1) == [1, 2]
    assert seen == [(1, threading.get_ident()), (2, threading.get_ident())]
    assert run_side_by_side([]) == []


def test_run_side_by_side_cancels_the_calls_after_a_failure_that_have_not_started() -> None:
    """Two workers, four calls: the first fails at once, the second and third keep both
    workers busy for half a second, so the fourth is still queued when the failure arrives and
    is cancelled, as it would never run one after another."""
    ran: list[int] = []

    def fail() -> int:
        raise RuntimeError("first call")

    def busy(value: int) -> int:
        ran.append(value)
        time.sleep(0.5)
        return value

    calls = [fail, lambda: busy(1), lambda: busy(2), lambda: busy(3)]
    with pytest.raises(RuntimeError, match="first call"):
        run_side_by_side(calls, max_workers=2)
    assert 3 not in ran
    assert 1 in ran


def test_a_failing_section_and_a_foreign_stdout_swap_leave_stdout_sound() -> None:
    stdout_before = sys.stdout
    with pytest.raises(ValueError, match="inside"), quiet_section(io.StringIO()):
        raise ValueError("inside")
    assert sys.stdout is stdout_before

    # something else swaps sys.stdout while a section is open and restores it after the
    # section closed: its own stream must not be replaced by the section's exit
    foreign = io.StringIO()
    section = quiet_section(io.StringIO())
    section.__enter__()
    swap = contextlib.redirect_stdout(foreign)
    swap.__enter__()
    section.__exit__(None, None, None)
    assert sys.stdout is foreign
    print("to the foreign stream")
    swap.__exit__(None, None, None)
    assert foreign.getvalue() == "to the foreign stream\n"
    sys.stdout = stdout_before


def test_the_router_answers_for_the_stream_it_wraps() -> None:
    """While a section is open, other threads see sys.stdout with the real stream's file
    number, encoding and attributes."""
    real = io.TextIOWrapper(io.BytesIO(), encoding="latin-1", errors="replace")
    stdout_before, sys.stdout = sys.stdout, real
    try:
        with quiet_section(io.StringIO()):
            router = sys.stdout
            assert router is not real
            assert router.encoding == "latin-1"
            assert router.errors == "replace"
            assert router.isatty() is False
            assert router.buffer is real.buffer
            with pytest.raises(io.UnsupportedOperation):
                router.fileno()
            outside: list[int] = []
            thread = threading.Thread(target=lambda: outside.append(router.write("from another")))
            thread.start()
            thread.join(TIMEOUT)
        assert sys.stdout is real
        real.flush()
        assert real.buffer.getvalue() == b"from another"
    finally:
        sys.stdout = stdout_before


def test_fit_threads_reads_its_variable() -> None:
    assert fit_threads({}) == len(os.sched_getaffinity(0))
    assert fit_threads({FIT_THREADS_ENV: " 3 "}) == 3
    assert fit_threads({FIT_THREADS_ENV: ""}) == fit_threads({})
    for bad in ["0", "-2", "two", "1.5"]:
        with pytest.raises(ValueError, match=rf"CRM_FIT_THREADS .* got '{bad}'"):
            fit_threads({FIT_THREADS_ENV: bad})
