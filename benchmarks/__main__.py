"""`python -m benchmarks` (make bench): every benchmark in turn, each in its own process.

Each prints its figures as ratios against a baseline measured in the same run; separate
processes keep one benchmark's memory out of another's peak RSS.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "benchmarks.jira_sync_bench",
    "benchmarks.trello_sync_bench",
    "benchmarks.metrics_bench",
    "benchmarks.workbook_bench",
    "benchmarks.query_bench",
)


def main() -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"\n== {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module], check=False).returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
