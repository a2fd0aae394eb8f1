"""Printing for ``bench/throughput.py``: one block per cycle, then a comparison table.

Kept apart from the measuring code so that what is measured and how it is
shown can be read separately. Every figure issue 7 asks for is on the
block's lines; the CPU lines explain the wall-clock ones (on a shared
2-core machine the wall clock moves with other people's work, CPU seconds
much less).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from throughput_baseline import Baseline

TARGET_RATIO = 1.5
TARGET_PEAK_MB = 600.0
TARGET_STORED = 0.95


@dataclass(slots=True)
class CycleRun:
    """What one ``once`` subprocess did, seen from outside."""

    label: str
    seconds: float
    returncode: int
    summary: dict[str, Any]
    peak_mb: float
    hwm_sum_mb: float
    processes: int
    samples: int
    log_path: Path
    main_cpu: float = 0.0
    child_cpu: tuple[float, ...] = ()
    main_hwm_mb: float = 0.0
    child_hwm_mb: tuple[float, ...] = ()

    @property
    def total_cpu(self) -> float:
        return self.main_cpu + sum(self.child_cpu)


@dataclass(slots=True)
class Outcome:
    """What the database says about the served pages."""

    served: int
    requested: int
    articles: int
    duplicates: int
    duplicates_by_method: dict[str, int]
    stored_urls: set[str]
    by_outcome: Counter[str] = field(default_factory=Counter)
    not_stored: dict[str, str] = field(default_factory=dict)

    @property
    def stored_share(self) -> float:
        return len(self.stored_urls) / max(self.served, 1)


def print_cycle(run: CycleRun, outcome: Outcome, baseline: Baseline) -> None:
    """Every figure of one cycle, with the targets beside them."""
    served, stored = outcome.served, len(outcome.stored_urls)
    ratio = baseline.seconds / run.seconds
    cores = os.cpu_count() or 1
    print(f"\n=== cycle: {run.label} (exit code {run.returncode})")
    print(f"pages served (in the feed)      {served}  (article GETs answered: "
          f"{outcome.requested})")
    print(f"rows: articles {outcome.articles} + duplicates {outcome.duplicates} "
          f"{dict(sorted(outcome.duplicates_by_method.items()))} = "
          f"{outcome.articles + outcome.duplicates}")
    print(f"pages stored                    {stored} / {served} = {outcome.stored_share:.1%}"
          f"   (target >= {TARGET_STORED:.0%})")
    print(f"cycle seconds (spawn to exit)   {run.seconds:.1f}   (inside run_cycle: "
          f"{run.summary.get('seconds')} s)")
    print(f"pages per second                {served / run.seconds:.1f} served, "
          f"{stored / run.seconds:.1f} stored")
    print(f"trafilatura serial seconds      {baseline.seconds:.1f}   ({baseline.describe()})")
    print(f"ratio trafilatura / cycle       {ratio:.2f}   (target >= {TARGET_RATIO})")
    print(f"peak RSS, process tree          {run.peak_mb:.0f} MB   (target <= "
          f"{TARGET_PEAK_MB:.0f}; {run.processes} processes at the peak, {run.samples} "
          f"samples at 50 ms)")
    print(f"  per-process peaks (VmHWM)     main {run.main_hwm_mb:.0f} MB, children "
          f"{[round(m) for m in run.child_hwm_mb]} MB; sum {run.hwm_sum_mb:.0f} MB")
    print(f"CPU seconds                     main process {run.main_cpu:.1f}, children "
          f"{[round(c, 1) for c in run.child_cpu]}; "
          f"{run.total_cpu / (run.seconds * cores):.0%} of {cores} cores over the cycle")
    print(f"CPU ratio                       {baseline.cpu_seconds / max(run.total_cpu, 1e-9):.2f}"
          f"   (trafilatura CPU / cycle CPU of all processes; the wall ratio can reach at "
          f"most {cores} x this)")
    print(f"fetch_log outcomes              {dict(sorted(outcome.by_outcome.items()))}")
    print(f"cycle summary counts            {run.summary.get('counts')}")
    if outcome.not_stored:
        print(f"not stored ({len(outcome.not_stored)}):")
        for url, why in sorted(outcome.not_stored.items()):
            print(f"  {url.split('/', 3)[-1]}: {why}")
    print(f"targets met: ratio {ratio >= TARGET_RATIO}, memory "
          f"{run.peak_mb <= TARGET_PEAK_MB}, stored {outcome.stored_share >= TARGET_STORED}")


def print_table(runs: list[tuple[CycleRun, Outcome]], baseline: Baseline) -> None:
    """The cycles side by side (only useful with ``--variant``)."""
    print(f"\n{'cycle':<34} {'seconds':>8} {'ratio':>6} {'CPU main':>9} {'CPU children':>13} "
          f"{'CPU ratio':>9} {'peak MB':>8} {'stored':>7}")
    for run, outcome in runs:
        print(f"{run.label:<34} {run.seconds:8.1f} {baseline.seconds / run.seconds:6.2f} "
              f"{run.main_cpu:9.1f} {sum(run.child_cpu):13.1f} "
              f"{baseline.cpu_seconds / max(run.total_cpu, 1e-9):9.2f} {run.peak_mb:8.0f} "
              f"{outcome.stored_share:7.1%}")
