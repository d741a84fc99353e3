"""What a user sees after Shift+Enter on a `%%codeact` cell in a cold kernel, and when.

Each sample is a fresh kernel (jupyter_client) with the extension loaded; the cell asks a model
server that is not there (the run ends with a clear error), so only the kernel's side is timed:
from the execute request to the cell's first output, and to its end. Beside it, in the same
kernels, the peer figure: how long `import litellm` takes, which is what the first output waited
for before the run said "starting" ahead of it.

    python benchmarks/first_output.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time


def _sample() -> dict:
    import jupyter_client

    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("%load_ext codeact_magic", timeout=60)
        started, first, what = time.monotonic(), None, ""

        def hook(msg: dict) -> None:
            nonlocal first, what
            if first is None and msg["msg_type"] in ("display_data", "stream"):
                first = time.monotonic() - started
                data = msg["content"].get("data", {})
                what = (data.get("text/plain") or msg["content"].get("text", ""))[:60]

        kc.execute_interactive("%%codeact --model openai/none --api-base http://127.0.0.1:9/v1\nhi",
                               timeout=120, output_hook=hook)
        whole = time.monotonic() - started
        return {"first": first, "whole": whole, "what": what}
    finally:
        km.shutdown_kernel(now=True)


def _import_litellm() -> float:
    import jupyter_client

    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        started = time.monotonic()
        kc.execute_interactive("import litellm", timeout=120)
        return time.monotonic() - started
    finally:
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours = [_sample() for _ in range(args.runs)]
    peer = [_import_litellm() for _ in range(args.runs)]
    first = statistics.median(s["first"] for s in ours) * 1000
    whole = statistics.median(s["whole"] for s in ours) * 1000
    imp = statistics.median(peer) * 1000
    print(f"Cold kernel, {args.runs} runs each (medians); goal: first output within 200 ms")
    print("| measure | ms |")
    print("| --- | --- |")
    print(f"| %%codeact: first output ({ours[0]['what']!r}) | {first:,.0f} |")
    print(f"| %%codeact: the cell's end (no server: a clear error) | {whole:,.0f} |")
    print(f"| peer: `import litellm` alone, in a fresh kernel | {imp:,.0f} |")
    print(f"| first output / import litellm | {first / imp:.2f} |")


if __name__ == "__main__":
    main()
