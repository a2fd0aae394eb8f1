"""Extraction worker processes (``ingest/workers.py``): real spawned processes.

The functions a worker runs must be importable by name in a spawned process, so
they live at this module's top level.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from ingest.errors import ExtractError, ExtractTimeout
from ingest.pipeline.workers import WorkerPool

_WARMED_IN: int | None = None


def _warm() -> None:
    global _WARMED_IN
    _WARMED_IN = os.getpid()


def _broken_warmup() -> None:
    raise RuntimeError("warm-up failed")


def _warmed(_: object) -> bool:
    """True when the warm-up ran in this very process before this job."""
    return os.getpid() == _WARMED_IN


def _pid(_: object) -> int:
    return os.getpid()


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _fail(message: str) -> None:
    raise ExtractError(message, url=None)


def _crash(_: object) -> None:
    raise ZeroDivisionError("boom")


def test_each_worker_is_warmed_up_before_its_first_job() -> None:
    with WorkerPool(size=2, deadline=30, warmup=_warm) as pool:
        assert all(pool.call(_warmed, None) for _ in range(4))
    with WorkerPool(size=1, deadline=30) as pool:
        assert pool.call(_warmed, None) is False  # no warm-up: the marker is unset


def test_a_failing_warmup_does_not_stop_the_pool() -> None:
    with WorkerPool(size=1, deadline=30, warmup=_broken_warmup) as pool:
        assert pool.call(_sleep, 0.0) == 0.0


def test_a_job_past_its_deadline_times_out_and_the_worker_is_replaced() -> None:
    # The short deadline covers the slow job only: starting a process (spawn, imports,
    # warm-up) may take longer than 0.5 s on a loaded machine, and is not what is tested.
    with WorkerPool(size=1, deadline=30, warmup=_warm) as pool:
        first = pool.call(_pid, None)
        pool.deadline = 0.5
        start = time.monotonic()
        with pytest.raises(ExtractTimeout) as info:
            pool.call(_sleep, 5.0, url="https://slow.example/a")
        assert time.monotonic() - start < 3
        assert info.value.url == "https://slow.example/a"
        pool.deadline = 30
        second = pool.call(_pid, None)
        assert second != first  # a fresh process, warmed up again
        assert pool.call(_warmed, None)


def test_errors_come_back_as_extract_errors_with_the_url() -> None:
    with WorkerPool(size=1, deadline=30) as pool:
        with pytest.raises(ExtractError, match="no body") as info:
            pool.call(_fail, "no body", url="https://a.example/x")
        assert info.value.url == "https://a.example/x"
        with pytest.raises(ExtractError, match="ZeroDivisionError: boom"):
            pool.call(_crash, None, url="https://a.example/y")
        assert pool.call(_sleep, 0.0) == 0.0  # the worker survived both


def test_workers_ignore_sigint_which_the_parent_handles() -> None:
    with WorkerPool(size=1, deadline=30) as pool:
        pid = pool.call(_pid, None)
        os.kill(pid, signal.SIGINT)
        time.sleep(0.2)
        assert pool.call(_pid, None) == pid  # same process, still serving


def test_run_keeps_the_event_loop_free_while_workers_work() -> None:
    async def both() -> list[float]:
        with WorkerPool(size=2, deadline=30) as pool:
            pool.start()  # spawning is not what is timed
            await asyncio.gather(pool.run(_sleep, 0.0), pool.run(_sleep, 0.0))
            start = time.monotonic()
            done = await asyncio.gather(pool.run(_sleep, 0.6), pool.run(_sleep, 0.6))
            assert time.monotonic() - start < 1.1  # in parallel, not one after the other
            return done

    assert asyncio.run(both()) == [0.6, 0.6]


def test_a_page_comes_back_with_its_stage_times_from_a_worker() -> None:
    # imported here: spawned workers import this module, and the other tests time them
    from ingest.pipeline.process import PageJob, process_page, process_page_timed
    from ingest.pipeline.stats import Stats

    html = ("<html><head><title>Storm</title></head><body><article><p>"
            + "The storm closed the harbour on Monday and the ferries stayed in port. " * 10
            + "</p></article></body></html>").encode()
    job = PageJob(url="https://a.example/storm", body=html)
    with WorkerPool(size=1, deadline=30) as pool:
        done, stats = pool.call(process_page_timed, job, url=job.url)
        error, failed = pool.call(process_page_timed, PageJob(url="https://a.example/e",
                                                              body=b"<html></html>"))
        worker = pool.call(_pid, None)
    assert done == process_page(job) and isinstance(stats, Stats)
    assert {s: t.count for s, t in stats.times.items()} == {
        "decode": 1, "extract": 1, "clean": 1, "fingerprint": 1}
    assert all(0 <= t.cpu <= t.wall + 0.002 for t in stats.times.values())
    assert stats.times["extract"].cpu > 0  # measured in the worker, not here
    assert isinstance(error, ExtractError) and "fingerprint" not in failed.times
    assert worker != os.getpid()
