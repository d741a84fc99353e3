"""The record a finished run leaves in its magic cell: what a saved notebook shows anywhere.

While a run goes on the cell shows the live run widget; a widget view is saved as a reference to a
model that exists only in the live kernel, so a reopened notebook, nbviewer, GitHub and nbconvert
would show nothing (or "model not found"). When the run ends the widget's display is replaced by
this record, in HTML, Markdown and plain text: the outcome, each step in one line with the model's
reason for it, the model, tokens and cost. Where the steps are not cells of their own (no
JupyterLab extension: Notebook 7 without it, VS Code), each step also holds its code and output.
"""

from __future__ import annotations

import html

from ..run import Run, Step

_ROOT = ("font-family: var(--jp-ui-font-family, sans-serif); font-size: 0.85em; "
         "color: var(--jp-ui-font-color1, #212121); margin: 4px 0;")
_LINE = "color: var(--jp-ui-font-color2, #616161);"
_PRE = ("font-family: var(--jp-code-font-family, monospace); font-size: 0.95em; white-space: pre-wrap; "
        "background: var(--jp-layout-color2, #f5f5f5); padding: 4px 8px; margin: 4px 0; "
        "max-height: 24em; overflow: auto;")
_NOTE = ("border-left: 3px solid var(--jp-warn-color1, #f57c00); padding: 2px 8px; margin: 4px 0;")
_ERROR = ("border-left: 3px solid var(--jp-error-color1, #d32f2f); padding: 2px 8px; margin: 4px 0;")
_FIRST_WORDS = 120  # characters of the model's reason shown in a step's line


def _mark(step: Step) -> tuple[str, str]:
    if step.timed_out:
        return "⏱", "timed out"
    if step.error is not None:
        return "✗", step.error.ename
    return "✓", "done"


def step_line(index: int, step: Step) -> str:
    """``✓ step 2 · In [7] · done · 0.1 s``: the same words as the live status lines."""
    mark, status = _mark(step)
    count = f"In [{step.execution_count}] · " if step.execution_count is not None else ""
    return f"{mark} step {index} · {count}{status} · {step.seconds:.1f} s"


def _reason(step: Step) -> str:
    """The model's reason for the step, on one line, cut at a word."""
    text = " ".join(step.thought.split())
    if len(text) <= _FIRST_WORDS:
        return text
    return text[:_FIRST_WORDS].rsplit(" ", 1)[0] + " …"


def record_text(run: Run) -> str:
    """Plain text (and Markdown: one list item a step), for frontends and files without HTML."""
    blocks = [run.summary(), *([run.note] if run.note else []),
              *([run.variables_line()] if run.variables_line() else [])]
    items = []
    for i, step in enumerate(run.steps, 1):
        reason = _reason(step)
        items.append(f"- {step_line(i, step)}" + (f" — {reason}" if reason else ""))
    return "\n\n".join(blocks + (["\n".join(items)] if items else []))


def record_html(run: Run, *, with_steps: bool) -> str:
    """One block: the summary, the note, then a foldable line a step (the reason, and with
    ``with_steps`` the code and what the model was shown)."""
    e = html.escape
    parts = [f'<div class="codeact-record" style="{_ROOT}">',
             f'<div class="codeact-record-summary" style="{_LINE}">{e(run.summary())}</div>']
    if run.note:
        style = _ERROR if run.status == "error" else _NOTE
        parts.append(f'<div class="codeact-record-note" style="{style}">{e(run.note)}</div>')
    if run.variables_line():
        parts.append(f'<div class="codeact-record-variables" style="{_LINE}">{e(run.variables_line())}</div>')
    for i, step in enumerate(run.steps, 1):
        reason = _reason(step)
        head = e(step_line(i, step)) + (f" — {e(reason)}" if reason else "")
        body = []
        if step.thought and (with_steps or reason != " ".join(step.thought.split())):
            body.append(f'<div style="white-space: pre-wrap; margin: 4px 0;">{e(step.thought)}</div>')
        if with_steps:
            body.append(f'<pre style="{_PRE}"><code>{e(step.code.rstrip())}</code></pre>')
            body.append(f'<pre style="{_PRE}">{e(step.output.rstrip())}</pre>')
        if body:
            parts.append(f'<details class="codeact-record-step"><summary style="{_LINE}">{head}</summary>'
                         + "".join(body) + "</details>")
        else:
            parts.append(f'<div class="codeact-record-step" style="{_LINE}">{head}</div>')
    parts.append("</div>")
    return "".join(parts)


def record_bundle(run: Run, *, with_steps: bool) -> dict[str, str]:
    text = record_text(run)
    return {"text/html": record_html(run, with_steps=with_steps), "text/markdown": text,
            "text/plain": text}
