"""The table of `stomper bench`: one row per client and one per role in total, then the latency plot."""

from __future__ import annotations

from typing import Any

from .bench_stats import PERCENTILES, format_us

#: Wider than any table: the measure of a table with nothing to fit into.
UNLIMITED = 10_000


def _latency_cells(latency: dict[str, Any] | None) -> list[str]:
    if latency is None:
        return [""] * (len(PERCENTILES) + 1)
    return [format_us(latency[name]) for name, _ in PERCENTILES] + [format_us(latency["max"])]


def _row(name: str, figures: dict[str, Any], latency: dict[str, Any] | None, lost: Any, duplicates: Any) -> list[str]:
    return [
        name, f"{figures['messages']:,}", f"{figures['msg_per_s']:,.0f}", f"{figures['mb_per_s']:.2f}",
        *_latency_cells(latency), "" if lost is None else f"{lost:,}", "" if duplicates is None else f"{duplicates:,}",
    ]


def rows(report: dict[str, Any]) -> list[list[str]]:
    """The table's cells: each client, then publishers and subscribers in total."""
    cells = [_row(client["name"], client, client.get("latency_us"), client.get("lost"), client.get("duplicates")) for client in report["clients"]]
    cells.append(_row("publishers", report["publish"], None, None, None))
    cells.append(_row("subscribers", report["subscribe"], report["subscribe"]["latency_us"], report["lost"], report["duplicates"]))
    return cells


def show(report: dict[str, Any], plot: list[str], color: str) -> None:
    """Print the table (and, on a terminal, the latency plot) to stdout."""
    from rich import box
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    console = Console(no_color=color == "never" or None, force_terminal=color == "always" or None, highlight=False)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    for heading in ("client", "msgs", "msg/s", "MB/s", *(name.replace("_", ".") for name, _ in PERCENTILES), "max", "lost", "dup"):
        table.add_column(heading, justify="left" if heading == "client" else "right")
    cells = rows(report)
    for number, row in enumerate(cells):
        table.add_row(*row, end_section=number == len(cells) - 3)
    widest = Measurement.get(console, console.options.update(max_width=UNLIMITED), table).maximum
    console.width = max(widest, console.width)  # a narrow terminal wraps lines rather than cut figures
    console.print(
        f"{report['destination']} ({report['delivery']}) on {report['server'] or 'the broker'}, STOMP {report['stomp_version']}: "
        f"{report['publishers']} pub, {report['subscribers']} sub, {report['size']} B bodies, ack {report['ack']}", markup=False, soft_wrap=True,
    )
    console.print(table)
    if plot and console.is_terminal:
        console.print("latency distribution (all subscribers):")
        for line in plot:
            console.print(line, markup=False)
