"""Figures for `stomper bench`: latency histograms, percentiles, rates, the CSV and the text plot.

Latencies are kept in microseconds. While a subscriber runs it only counts
them in a dict (one dict update per message costs a fraction of a histogram
record); at the end the counts are folded into an HdrHistogram, which is
what crosses the process boundary (compactly encoded), merges across
subscribers and answers the percentile questions with three significant
digits (values below 2048 us are exact).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from typing import IO

from hdrh.histogram import HdrHistogram

#: (JSON key, percentile) reported for every subscriber and in aggregate.
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99_9", 99.9))
#: The largest latency a histogram can hold: one hour, in microseconds (larger values are clamped).
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3
#: MB/s counts 10**6 bytes of message body per second.
MEGABYTE = 1_000_000


def new_histogram() -> HdrHistogram:
    """An empty latency histogram (1 us to one hour, three significant digits)."""
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)


def histogram_from_counts(counts: Mapping[int, int]) -> HdrHistogram:
    """A histogram holding `counts` (latency in us -> how many messages had it)."""
    histogram = new_histogram()
    for value, count in counts.items():
        histogram.record_value(min(max(value, 0), HIGHEST_US), count)
    return histogram


def encode(histogram: HdrHistogram) -> bytes:
    """The histogram in HdrHistogram's compressed wire form, to send between processes."""
    return histogram.encode()


def merge(encoded: Iterable[bytes]) -> HdrHistogram:
    """One histogram holding every encoded histogram's values."""
    total = new_histogram()
    for blob in encoded:
        total.decode_and_add(blob)
    return total


def latency_summary(histogram: HdrHistogram) -> dict[str, float | int] | None:
    """count, min, mean, p50, p90, p99, p99_9 and max in us; None when nothing was recorded."""
    count = histogram.get_total_count()
    if not count:
        return None
    summary: dict[str, float | int] = {"count": count, "min": histogram.get_min_value(), "mean": round(histogram.get_mean_value(), 1)}
    for name, percentile in PERCENTILES:
        summary[name] = histogram.get_value_at_percentile(percentile)
    summary["max"] = histogram.get_max_value()
    return summary


def throughput(messages: int, body_bytes: int, seconds: float) -> dict[str, float | int]:
    """messages, bytes, seconds, msg_per_s and mb_per_s (0 when no time passed)."""
    rate = messages / seconds if seconds > 0 else 0.0
    byte_rate = body_bytes / seconds if seconds > 0 else 0.0
    return {
        "messages": messages, "bytes": body_bytes, "seconds": round(seconds, 6),
        "msg_per_s": round(rate, 1), "mb_per_s": round(byte_rate / MEGABYTE, 3),
    }


def distribution(histogram: HdrHistogram) -> list[tuple[int, int]]:
    """(latency us, messages) for every distinct recorded value, ascending."""
    return [(step.value_iterated_to, step.count_added_in_this_iter_step) for step in histogram.get_recorded_iterator()]


def write_csv(histogram: HdrHistogram, stream: IO[str]) -> None:
    """The distribution as CSV: latency_us, count, cumulative_count, percentile (of messages at or below)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["latency_us", "count", "cumulative_count", "percentile"])
    total = histogram.get_total_count()
    cumulative = 0
    for value, count in distribution(histogram):
        cumulative += count
        writer.writerow([value, count, cumulative, f"{100.0 * cumulative / total:.4f}"])


def format_us(microseconds: float) -> str:
    """A latency for people: 850us, 12.3ms, 1.50s."""
    if microseconds < 1000:
        return f"{microseconds:.0f}us"
    if microseconds < 1_000_000:
        return f"{microseconds / 1000:.3g}ms"
    return f"{microseconds / 1_000_000:.3g}s"


def text_plot(histogram: HdrHistogram, rows: int = 8, width: int = 40) -> list[str]:
    """A few lines of bars: messages per latency band, the bands spaced logarithmically from min to max.

    Latencies spread over orders of magnitude (a fast body and a slow tail),
    so equal-width bands would put nearly everything in the first one.
    """
    points = distribution(histogram)
    if not points:
        return []
    low, high = max(points[0][0], 1), max(points[-1][0], 1)
    rows = 1 if high <= low else rows
    ratio = (high / low) ** (1 / rows) if rows > 1 else 1.0
    edges = [low * ratio ** (step + 1) for step in range(rows)]
    edges[-1] = high
    counts = [0] * rows
    for value, count in points:
        band = 0 if ratio == 1.0 or value <= low else min(rows - 1, int(math.log(value / low, ratio) - 1e-9))
        counts[band] += count
    peak = max(counts)
    total = sum(counts)
    lines = []
    for edge, count in zip(edges, counts, strict=True):
        bar = "#" * (round(width * count / peak) if count else 0)
        lines.append(f"<= {format_us(edge):>8} |{bar:<{width}} {count} ({100.0 * count / total:.1f}%)")
    return lines

