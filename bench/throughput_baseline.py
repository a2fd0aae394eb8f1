"""The baseline of issue 7: serial ``trafilatura.extract`` over the benchmark's pages.

The baseline is timed in two halves, the even-numbered pages just before
the cycle and the odd-numbered ones just after it: on a shared 2-core
machine the background load drifts over minutes, and splitting the
baseline around the cycle exposes the baseline to the same conditions as
the cycle, on average, without timing anything twice. The halves' rates
are printed, so a drift shows.

Pages are decoded to ``str`` before timing and a warm-up call is made,
both untimed: the baseline is trafilatura's extraction alone, which is
the strict reading (the cycle's time includes decoding). With
``input_kind="bytes"`` trafilatura decodes too, which is slower::

    baseline = Baseline.prepare(pages, "str")
    baseline.run_half(0)   # even pages
    ...                    # the cycle
    baseline.run_half(1)   # odd pages
    baseline.seconds, baseline.cpu_seconds
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from throughput_site import Page


@dataclass(slots=True)
class Half:
    pages: int
    seconds: float
    cpu_seconds: float


@dataclass(slots=True)
class Baseline:
    inputs: list[str | bytes]
    input_kind: str
    warmup_seconds: float = 0.0
    halves: list[Half] = field(default_factory=list)

    @classmethod
    def prepare(cls, pages: list[Page], input_kind: str) -> Baseline:
        """Import trafilatura, decode the pages and warm up, all untimed."""
        import trafilatura

        from ingest.extract.decode import decode_html

        inputs: list[str | bytes] = [p.body if input_kind == "bytes" else decode_html(p.body)
                                     for p in pages]
        start = time.perf_counter()
        trafilatura.extract(inputs[0], with_metadata=True)  # lazy initialisation
        return cls(inputs, input_kind, time.perf_counter() - start)

    def run_half(self, which: int) -> Half:
        """Extract pages ``which``, ``which + 2``, ... serially; wall and CPU seconds."""
        import trafilatura

        inputs = self.inputs[which::2]
        wall, cpu = time.perf_counter(), time.process_time()
        for html in inputs:
            trafilatura.extract(html, with_metadata=True)
        half = Half(len(inputs), time.perf_counter() - wall, time.process_time() - cpu)
        self.halves.append(half)
        return half

    @property
    def seconds(self) -> float:
        return sum(h.seconds for h in self.halves)

    @property
    def cpu_seconds(self) -> float:
        return sum(h.cpu_seconds for h in self.halves)

    @property
    def pages(self) -> int:
        return sum(h.pages for h in self.halves)

    def describe(self) -> str:
        rates = ", ".join(f"{1000 * h.seconds / max(h.pages, 1):.1f}" for h in self.halves)
        return (f"{self.input_kind} input, {1000 * self.seconds / max(self.pages, 1):.1f} "
                f"ms/page; halves before/after the cycle {rates} ms/page; CPU "
                f"{self.cpu_seconds:.1f} s; warm-up {self.warmup_seconds:.2f} s untimed")
