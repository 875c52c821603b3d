"""Start-up time of `stomper pack`, `stomper unpack --json` and `stomper subscribe --help` against `python -c "import click"`.

    .venv/bin/python benchmarks/bench_startup.py [--runs N]

Each command is run as a whole new process N times, interleaved so that
machine noise hits all of them alike; the median wall time of each is
reported, and its ratio to the `import click` baseline (target: <= 1.5x).
Uses the `stomper` console script next to the interpreter when present (what
users run), else `python -m stomper_cli`.

The packages are byte-compiled first, as `pip install` does (click's own
bytecode is already in site-packages): with PYTHONDONTWRITEBYTECODE set and
an editable install, every run would otherwise recompile stomper from
source and measure the compiler, not the start-up. `--no-compile` skips it.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

FRAME = b"SEND\ndestination:/queue/a\ncontent-length:5\n\nhello\0"
TARGET = 1.5


def stomper_command() -> list[str]:
    script = Path(sys.executable).with_name("stomper")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stomper_cli"]


def commands() -> dict[str, tuple[list[str], bytes]]:
    stomper = stomper_command()
    return {
        'python -c "import click"': ([sys.executable, "-c", "import click"], b""),
        "stomper pack SEND ...": ([*stomper, "pack", "SEND", "-H", "destination:/queue/a", "--body", "hello"], b""),
        "stomper unpack --json": ([*stomper, "unpack", "--json"], FRAME),
        "stomper subscribe --help": ([*stomper, "subscribe", "--help"], b""),
    }


def byte_compile() -> None:
    for package in ("stomper", "stomper_cli"):
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            compileall.compile_dir(next(iter(spec.submodule_search_locations)), quiet=1)


def time_once(argv: list[str], stdin: bytes) -> float:
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile stomper first")
    args = parser.parse_args()
    if not args.no_compile:
        byte_compile()
    todo = commands()
    times: dict[str, list[float]] = {name: [] for name in todo}
    for argv, stdin in todo.values():  # warm the file cache
        time_once(argv, stdin)
    for _ in range(args.runs):
        for name, (argv, stdin) in todo.items():
            times[name].append(time_once(argv, stdin))
    baseline_name = next(iter(todo))
    baseline = statistics.median(times[baseline_name])
    print(f"{'command':<28} {'median':>9} {'min':>9}  ratio   ({args.runs} runs each, {sys.version.split()[0]})")
    worst = 0.0
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / baseline
        if name != baseline_name:
            worst = max(worst, ratio)
        print(f"{name:<28} {median * 1000:7.1f}ms {min(samples) * 1000:7.1f}ms  {ratio:4.2f}x")
    verdict = "within" if worst <= TARGET else "OVER"
    print(f"worst ratio {worst:.2f}x: {verdict} the {TARGET}x target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
