"""Run every benchmark in this folder, one after another, and print their figures.

    .venv/bin/python benchmarks/run_all.py            # quick runs (--quick)
    .venv/bin/python benchmarks/run_all.py --full     # full-size runs (long: see each script)
"""
from __future__ import annotations

import pathlib
import subprocess
import sys


def main() -> int:
    here = pathlib.Path(__file__).resolve().parent
    full = "--full" in sys.argv[1:]
    failed = 0
    for script in sorted(here.glob("*_bench.py")):
        print(f"\n=== {script.name} {'(full)' if full else '(--quick)'}", flush=True)
        args = [sys.executable, str(script)] + ([] if full else ["--quick"])
        failed += subprocess.call(args) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
