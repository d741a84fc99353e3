"""What a user sees after Shift+Enter on a `%%codeact` cell in a cold kernel, timed in the page.

A real `jupyter lab` and Debian's Chromium (Playwright). Each sample opens a fresh notebook (a
fresh kernel) whose first cell loaded the extension; Shift+Enter on a `%%codeact` cell, then the
time until its output area first shows something, and until the run's widget or record shows.
Beside it, in the same page and kernel, the peer figure: a plain `print()` cell's first paint,
which is JupyterLab's own round trip (the ratio is what the magic adds to it).

    python benchmarks/first_paint.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

# Milliseconds from the keypress to the first output of the cell at `index`, measured in the page.
FIRST_OUTPUT = """async (index) => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cell = panel.content.widgets[index];
    panel.content.activeCellIndex = index;
    const area = cell.node.querySelector('.jp-OutputArea');
    return await new Promise(resolve => {
        const started = performance.now();
        const seen = () => area.querySelector('.jp-OutputArea-output') && area.innerText.trim();
        const observer = new MutationObserver(() => {
            if (seen()) { observer.disconnect(); resolve(performance.now() - started); }
        });
        observer.observe(area, {childList: true, subtree: true, characterData: true});
        window.jupyterapp.commands.execute('notebook:run-cell');
    });
}"""
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    from lab_server import CHROMIUM, CHROMIUM_ARGS, KERNEL_IDLE, LabServer, write_notebook

    root = Path(tempfile.mkdtemp(prefix="codeact-first-paint-"))
    env = {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL",)}
    lab = LabServer(root, env=env)
    magic, plain = [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for i in range(args.runs):
                name = f"cold-{i}.ipynb"
                # No model server answers there: the run ends with a clear error, after its first paint.
                write_notebook(root / name, ["%load_ext codeact_magic", "print('plain')",
                                             "%%codeact --model openai/none --api-base http://127.0.0.1:9/v1\nhi"])
                page = browser.new_page()
                page.goto(lab.page_url(name))
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
                page.wait_for_function(KERNEL_IDLE, timeout=120_000)
                page.evaluate("""() => { const p = window.jupyterapp.shell.currentWidget;
                    p.content.activeCellIndex = 0; return window.jupyterapp.commands.execute('notebook:run-cell'); }""")
                page.wait_for_function(KERNEL_IDLE, timeout=120_000)
                time.sleep(0.5)
                plain.append(page.evaluate(FIRST_OUTPUT, 1))
                page.wait_for_function(KERNEL_IDLE, timeout=120_000)
                magic.append(page.evaluate(FIRST_OUTPUT, 2))
                page.wait_for_function(KERNEL_IDLE, timeout=120_000)
                page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")
                page.close()
                print(f"sample {i + 1}: %%codeact {magic[-1]:.0f} ms, print() {plain[-1]:.0f} ms", flush=True)
            browser.close()
    finally:
        lab.stop()
    m, q = statistics.median(magic), statistics.median(plain)
    print("\n| cell (cold kernel, extension loaded) | first output, median ms | max ms | runs |\n| --- | --- | --- | --- |")
    print(f"| `%%codeact` (litellm not yet imported) | {m:.0f} | {max(magic):.0f} | {len(magic)} |")
    print(f"| `print('plain')` (JupyterLab's round trip) | {q:.0f} | {max(plain):.0f} | {len(plain)} |")
    print(f"\nRatio %%codeact / print(): {m / q:.2f}")


if __name__ == "__main__":
    main()
