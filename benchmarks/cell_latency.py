"""Time from a step's code being ready in the kernel to its cell painted in JupyterLab (goal <= 100 ms).

A real `jupyter lab` with the extension, Debian's Chromium (Playwright), and the scripted model
server asking for N quick steps from the panel. Each step's latency is measured in the page: the
kernel stamps `step_started` with the time the code was ready, the extension notes when the
inserted cell is painted (the next animation frame) and shows it on the panel's step entry.

    python benchmarks/cell_latency.py [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lab_server import CHROMIUM, CHROMIUM_ARGS, LabServer, write_notebook  # noqa: E402
from scripted_server import Reply, ScriptedServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--reply-seconds", type=float, default=0.5,
                        help="how long each scripted reply takes to stream (a fast cloud model: "
                        "about half a second; 0: all at once, the browser's worst case)")
    args = parser.parse_args()
    server = ScriptedServer().start()

    def reply(body: dict) -> Reply:
        done = sum(1 for m in body["messages"] if m["role"] == "assistant")
        text = (f"Step {done + 1}.\n```python\nprint({done} * 2)\n```" if done < args.steps
                else "Done.")
        pieces = max(1, len(text) // 6)
        return Reply(text, chunk_delay=args.reply_seconds / pieces)

    server.default = reply
    root = Path(tempfile.mkdtemp())
    settings = root / "lab-settings" / "codeact-magic"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps(
        {"model": "openai/scripted", "apiBase": server.url, "maxSteps": args.steps + 1}))
    lab = LabServer(root, env={**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / "lab-settings")})
    write_notebook(root / "latency.ipynb", ["x = 1"])
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.goto(lab.page_url("latency.ipynb"))
            page.wait_for_function("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                                   " const k = w && w.sessionContext.session && w.sessionContext.session.kernel;"
                                   " return !!k && k.status === 'idle'; }", timeout=60_000)
            page.keyboard.press("Control+Shift+Y")
            box = page.locator(".jp-codeact-panel textarea")
            box.fill("Take many small steps")
            box.press("Enter")
            page.locator(".jp-codeact-final").wait_for(timeout=120_000)
            page.wait_for_function(f"() => document.querySelectorAll('.jp-codeact-step[data-latency-ms]').length >= {args.steps}")
            latency = [int(v) for v in page.eval_on_selector_all(
                ".jp-codeact-panel .jp-codeact-step", "nodes => nodes.map(n => n.dataset.latencyMs)")]
            browser.close()
    finally:
        lab.stop()
        server.stop()
    latency.sort()
    p90 = latency[max(0, int(len(latency) * 0.9) - 1)]
    print(f"{args.steps} steps from the panel, replies streaming over {args.reply_seconds:g} s each: "
          "step code ready -> cell painted in the page (ms)")
    print(f"{'median':>8} {'p90':>8} {'min':>8} {'max':>8} {'goal':>8}")
    print(f"{statistics.median(latency):>8.0f} {p90:>8} {latency[0]:>8} {latency[-1]:>8} {'<= 100':>8}")


if __name__ == "__main__":
    main()
