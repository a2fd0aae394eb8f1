"""The Prometheus text exposition format (version 0.0.4), as plain strings.

Used by :mod:`ingest.pipeline.metrics` for ``/metrics``. The format is a few lines
of text per metric, so writing it ourselves costs less than a client library
and its global registry; kept apart from the counters and the HTTP endpoint
because it is pure string formatting whose escaping rules are easy to get
subtly wrong (a backslash, quote or newline in a label value, such as a
source name from the configuration, must not break the scrape)::

    >>> family("rows", "gauge", "Rows per table.", [({"table": "articles"}, 42.0)])
    ['# HELP rows Rows per table.', '# TYPE rows gauge', 'rows{table="articles"} 42']
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Sample = tuple[dict[str, str], float]


def family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    """One metric family in the text format: HELP, TYPE, then one line per sample.

    >>> family("x_total", "counter", "Things.", [({"k": 'a"b'}, 2)])
    ['# HELP x_total Things.', '# TYPE x_total counter', 'x_total{k="a\\\\"b"} 2']
    """
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sorted(labels.items()))
        lines.append(f"{name}{{{inner}}} {_value(value)}" if inner else f"{name} {_value(value)}")
    return lines


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))
