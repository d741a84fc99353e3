"""How long `%load_ext codeact_magic` takes, and whether it imports litellm (goal: <= 50 ms, no).

Each sample is a fresh Python process with an IPython shell already started, so only the
extension's own import and registration are timed.

    python benchmarks/load_ext.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = r"""
import json, sys, time
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
t = time.perf_counter()
ip.run_line_magic("load_ext", "codeact_magic")
ms = (time.perf_counter() - t) * 1000
print(json.dumps({"ms": ms, "litellm": "litellm" in sys.modules}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    samples = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    times = sorted(s["ms"] for s in samples)
    imported = any(s["litellm"] for s in samples)
    print(f"{'measure':<32} {'value':>12}")
    print(f"{'-' * 32} {'-' * 12}")
    print(f"{'runs':<32} {args.runs:>12}")
    print(f"{'load_ext median (ms)':<32} {statistics.median(times):>12.1f}")
    print(f"{'load_ext min / max (ms)':<32} {f'{times[0]:.1f} / {times[-1]:.1f}':>12}")
    print(f"{'litellm imported at load':<32} {'yes' if imported else 'no':>12}")
    print(f"{'goal (<= 50 ms, no litellm)':<32} "
          f"{'met' if statistics.median(times) <= 50 and not imported else 'MISSED':>12}")


if __name__ == "__main__":
    main()
