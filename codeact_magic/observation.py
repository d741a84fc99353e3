"""What the model is shown for a step: outputs and errors as plain, bounded, redacted text."""

from __future__ import annotations

import re
import traceback

from .capture import BoundedText
from .executor import Execution
from .harness_frames import drop_harness_frames
from .redact import redact
from .run import StepError

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
NO_OUTPUT = "(no output: the code ran and printed nothing)"


def clean(text: str) -> str:
    """Drop ANSI colours, and keep only what a terminal would finally show of ``\\r`` redraws."""
    text = _ANSI.sub("", text)
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if line else line for line in text.split("\n"))
    return text


def format_error(error: BaseException, *, before_exec: bool) -> str:
    """The traceback of the step's code, as plain text, without the harness's frames."""
    if before_exec:
        # A SyntaxError (or the like) while compiling: the location and caret say it all.
        return "".join(traceback.format_exception_only(type(error), error))
    tb = traceback.TracebackException.from_exception(error, capture_locals=False)
    drop_harness_frames(tb)
    return "".join(tb.format())


def step_error(error: BaseException | None) -> StepError | None:
    if error is None:
        return None
    return StepError(ename=type(error).__name__, evalue=str(error))


def _cut(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    buf = BoundedText(budget)
    buf.append(text)
    return buf.text(budget)


def observe(execution: Execution, *, limit: int, secrets: list[str], timeout: float | None) -> str:
    """The execution feedback for one step, at most about ``limit`` characters."""
    sections: list[tuple[str, str]] = []
    if execution.timed_out:
        sections.append(("", f"The step ran longer than its {timeout:g} s timeout and was "
                              "interrupted. What it printed before that is below."))
    error_text = ""
    if execution.error is not None and not execution.timed_out:
        error_text = clean(format_error(execution.error, before_exec=execution.error_before_exec))
    budget = limit - min(len(error_text), limit // 2) if error_text else limit
    outputs = [
        ("stdout", _stream(execution.stdout, budget)),
        ("stderr", _stream(execution.stderr, budget)),
        ("display", clean("\n".join(execution.displays))),
        ("result", clean(execution.result or "")),
    ]
    outputs = [(k, v) for k, v in outputs if v.strip()]
    # Label the parts only when there is more than one kind, so a plain print stays plain.
    labelled = len(outputs) > 1
    sections += [(f"[{k}]\n" if labelled else "", v.rstrip("\n")) for k, v in outputs]
    text = "\n".join(label + body for label, body in sections)
    text = _cut(text, budget)
    if error_text:
        text = (text + "\n" if text else "") + _cut(error_text.rstrip("\n"), limit - len(text))
    if not text.strip():
        text = NO_OUTPUT
    return redact(text, secrets)


def _stream(buf: BoundedText, budget: int) -> str:
    return clean(buf.text(budget)) if buf.total else ""


