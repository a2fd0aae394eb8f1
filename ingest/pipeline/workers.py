"""A pool of worker processes with a deadline per page.

trafilatura can hang or balloon on a hostile page. A thread cannot be
stopped and ``ProcessPoolExecutor`` cannot kill one stuck task, so each
worker here is a process behind a pipe: a page past its deadline gets its
worker killed and replaced, the page is reported as ``ExtractTimeout``, and
the cycle goes on. Workers also cap their own address space, so a memory
blow-up becomes a ``MemoryError`` for that page, not an OOM kill of the host::

    with WorkerPool(size=2, deadline=30.0) as pool:
        done = await pool.run(process_page, job, url=job.url)
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import resource
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, TypeVar, cast

from ingest.errors import ExtractError, ExtractTimeout, NewsdedupError

T = TypeVar("T")
_MEMORY_LIMIT_BYTES = 2 * 1024**3
_CTX = multiprocessing.get_context("spawn")


def _serve(conn: Connection, memory_limit: int, warmup: Callable[[], object] | None) -> None:
    """Worker main loop: call, answer ``(ok, value)``, repeat until the pipe closes.

    Ctrl-C in a terminal signals the whole process group: the worker ignores SIGINT
    (the parent decides when to stop and closes the pipe or kills the worker), so an
    interrupted run ends without a KeyboardInterrupt traceback from every worker. The
    worker starts with SIGINT blocked (see :meth:`_Worker._start`), so a Ctrl-C during
    its imports waits until it is ignored here, and is then discarded."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    if warmup is not None:
        with contextlib.suppress(Exception):  # best effort: the first job reports any error
            warmup()
    while True:
        try:
            fn, arg = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send((True, fn(arg)))
        except NewsdedupError as exc:
            conn.send((False, exc))
        except MemoryError:
            conn.send((False, ExtractError("out of memory while extracting", url=None)))
        except Exception as exc:
            conn.send((False, ExtractError(f"{type(exc).__name__}: {exc}", url=None)))


class _Worker:
    def __init__(self, memory_limit: int, warmup: Callable[[], object] | None) -> None:
        self._memory_limit = memory_limit
        self._warmup = warmup
        self._start()

    def _start(self) -> None:
        """Spawn the worker with SIGINT blocked: the child inherits the mask, so a Ctrl-C
        while it imports (a second or two) cannot raise there; :func:`_serve` ignores
        SIGINT, then unblocks it. The resource tracker is started first, as its start
        would unblock SIGINT in this thread."""
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=_serve, args=(child, self._memory_limit, self._warmup),
                                daemon=True)
        resource_tracker.ensure_running()
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        child.close()

    def call(self, fn: Callable[[Any], Any], arg: Any, deadline: float) -> tuple[bool, Any]:
        try:
            self.conn.send((fn, arg))
            if self.conn.poll(deadline):
                result: tuple[bool, Any] = self.conn.recv()
                return result
        except (EOFError, OSError, BrokenPipeError):
            self.restart()
            return False, ExtractError("worker process died", url=None)
        self.restart()
        return False, ExtractTimeout(f"extraction passed its {deadline:g}s deadline", url=None)

    def restart(self) -> None:
        self.stop()
        self._start()

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """``size`` worker processes (default: one per core) sharing one queue of pages.

    ``warmup`` (a module-level function, so a spawned worker can import it) runs in
    each worker as it starts, before its first job: imports and models loaded there
    overlap the caller's own start-up (discovery) instead of delaying the first pages.
    """

    def __init__(self, size: int = 0, deadline: float = 30.0,
                 memory_limit: int = _MEMORY_LIMIT_BYTES,
                 warmup: Callable[[], object] | None = None) -> None:
        if deadline <= 0:
            raise ValueError(f"deadline must be > 0 seconds, got {deadline}")
        self.size = size or os.cpu_count() or 1
        self.deadline = deadline
        self._memory_limit = memory_limit
        self._warmup = warmup
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._threads: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> WorkerPool:
        """Spawn the workers now, so their imports overlap other start-up work."""
        self._ensure_started()
        return self

    def _ensure_started(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._threads is None:
                for _ in range(self.size):
                    self._idle.put(_Worker(self._memory_limit, self._warmup))
                self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="worker")
            return self._threads

    def call(self, fn: Callable[[Any], T], arg: Any, *, url: str | None = None) -> T:
        """Run ``fn(arg)`` in a worker, blocking; errors come back with ``url`` attached."""
        self._ensure_started()
        worker = self._idle.get()
        try:
            ok, value = worker.call(fn, arg, self.deadline)
        finally:
            self._idle.put(worker)
        if ok:
            return cast(T, value)
        if isinstance(value, NewsdedupError) and value.url is None:
            value.url = url
        raise value

    async def run(self, fn: Callable[[Any], T], arg: Any, *, url: str | None = None) -> T:
        """Awaitable :meth:`call`: the event loop stays free while a worker works."""
        threads = self._ensure_started()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(threads, lambda: self.call(fn, arg, url=url))

    def close(self) -> None:
        with self._lock:
            if self._threads is not None:
                self._threads.shutdown(wait=True, cancel_futures=True)
                self._threads = None
            while not self._idle.empty():
                self._idle.get_nowait().stop()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
