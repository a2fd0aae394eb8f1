"""Peak resident memory of a process *tree*, sampled from /proc (Linux, no psutil).

The service's footprint is its main process plus its worker processes, so
neither the main process's own peak nor ``RUSAGE_CHILDREN`` (the largest
single descendant) answers "how much memory does a cycle need". A thread
samples ``VmRSS`` of the root and every descendant every ``interval``
seconds and keeps the largest *sum*; it also keeps each process's own
``VmHWM`` (the kernel's exact per-process peak), whose sum is an upper
bound the sampled peak can be checked against. It also keeps each
process's CPU seconds as last seen (up to one interval short at its exit),
which tells whether the main process or the workers are the bottleneck. Sums of RSS count shared
pages (libraries, copy-on-write) once per process, so they over-state
slightly; that errs on the safe side of a memory target::

    with TreeSampler(proc.pid) as mem:
        proc.wait()
    mem.peak_mb, mem.peak_processes, mem.hwm_sum_mb, mem.hwm_mb
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")
_KB_PER_MB = 1024.0
_TICKS = os.sysconf("SC_CLK_TCK")


class TreeSampler:
    """Samples the RSS of ``root_pid`` and its descendants on a background thread."""

    def __init__(self, root_pid: int, interval: float = 0.05) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.peak_kb = 0
        self.peak_processes = 0
        self.samples = 0
        self.max_processes = 0
        self._hwm_kb: dict[int, int] = {}
        self.cpu_seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / _KB_PER_MB

    @property
    def hwm_sum_mb(self) -> float:
        """Sum of every process's own peak (upper bound: peaks need not coincide)."""
        return sum(self._hwm_kb.values()) / _KB_PER_MB

    @property
    def hwm_mb(self) -> dict[int, float]:
        """Each process's own peak (VmHWM), by pid."""
        return {pid: kb / _KB_PER_MB for pid, kb in self._hwm_kb.items()}

    def sample(self) -> None:
        """Take one sample now (also called once more at stop, to catch the end)."""
        total, count = 0, 0
        for pid in tree_pids(self.root_pid):
            status = _status(pid)
            if status is None:
                continue
            total += status.get("VmRSS", 0)
            hwm = status.get("VmHWM", 0)
            if hwm > self._hwm_kb.get(pid, 0):
                self._hwm_kb[pid] = hwm
            cpu = _cpu_seconds(pid)
            if cpu is not None:
                self.cpu_seconds[pid] = cpu
            count += 1
        self.samples += 1
        self.max_processes = max(self.max_processes, count)
        if total > self.peak_kb:
            self.peak_kb, self.peak_processes = total, count

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def tree_pids(root: int) -> list[int]:
    """``root`` and all its live descendants, found through each task's children file."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(_children(pid))
    return found


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            text = (task / "children").read_text()
            kids.extend(int(k) for k in text.split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return kids


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used so far (fields 14 and 15 of stat)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rpartition(")")[2].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _status(pid: int) -> dict[str, int] | None:
    """``Vm*`` lines of /proc/<pid>/status in kB; None once the process is gone."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return None
    values = {}
    for line in lines:
        if line.startswith("Vm"):
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0])
    return values
