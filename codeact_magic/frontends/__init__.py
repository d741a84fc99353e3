"""Choosing how a run shows itself and who answers its questions, in the frontend at hand.

In a Jupyter kernel the run tries, at once and for a second at most, both the JupyterLab
extension (steps become cells) and the run widget (status, Stop, approvals). What answers is used;
what does not falls back: plain inline output, and in a terminal the console for approvals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..control import AutoControl, ConsoleControl, Control, Mode
from ..events import Event, RunFinished
from .inline import CompactRenderer, RichRenderer, TerminalRenderer
from .markdown import currency_as_text
from .record import record_bundle
from ..run import Run


@dataclass
class Frontends:
    sinks: list[Callable[[Event], None]] = field(default_factory=list)
    control: Control = field(default_factory=AutoControl)
    router_factory: Any = None  # where steps' outputs go, when not the magic cell
    refusal: str | None = None  # why the run cannot start in this frontend


class AnswerDisplay:
    """The final answer as rendered Markdown in the magic cell (after the run's record)."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished) and event.run.answer:
            from IPython.display import display

            display({"text/markdown": currency_as_text(event.run.answer), "text/plain": event.run.answer},
                    raw=True)


@dataclass
class WidgetToRecord:
    """When the run ends, the widget's display becomes the run's record: a widget view is saved as
    a reference to a model only the live kernel has, the record reads the same anywhere."""

    handle: Any
    widget: Any
    with_steps: bool

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.handle.update(record_bundle(event.run, with_steps=self.with_steps), raw=True)
            self.widget.close()


async def choose(shell: Any, run: Run, *, mode: Mode, max_steps: int,
                 renderer: RichRenderer | TerminalRenderer) -> Frontends:
    if not hasattr(shell, "kernel"):
        # IPython in a terminal.
        if mode == "auto":
            return Frontends([renderer])
        if not ConsoleControl.available():
            return Frontends([renderer], refusal=(
                f"--mode {mode} needs someone to answer, and this terminal has no console input. "
                "Use --mode auto here, or run in JupyterLab, Notebook 7 or VS Code."))
        return Frontends([renderer], ConsoleControl(mode))

    from IPython.display import display

    from .lab_link import LabLink
    from .widget import RunWidget

    widget = RunWidget(model=run.model, mode=mode, max_steps=max_steps)
    handle = display(widget, display_id=True)
    link, rendered = await asyncio.gather(
        LabLink.open(shell, {"run_id": run.id, "request": run.request,
                             "model": run.model, "max_steps": max_steps}),
        widget.rendered(),
    )
    chosen = Frontends()
    if rendered:
        chosen.control = widget
        chosen.sinks.append(widget)
    else:
        # No widget manager here (nbclient, a plain frontend): plain output instead of the widget.
        handle.update({"text/plain": ""}, raw=True)
        widget.close()
    if rendered:
        widget.expand_steps = link is None
    if link is not None and rendered and mode != "auto":
        # The panel asks too: its answers go where the widget's go, and each side sees the
        # question come and go.
        link.on_decision = widget.receive
        widget.observe(lambda change: link.pending(change["new"] or {}), names="pending")
    if link is not None:
        # The extension writes the steps and the answer as cells of their own.
        run.ui_latency_ms = link.cell_latency_ms
        chosen.router_factory = link.router
        chosen.sinks.insert(0, link)
        if not rendered:
            chosen.sinks.append(CompactRenderer.taking_over(renderer)
                                if isinstance(renderer, RichRenderer) else renderer)
    elif rendered:
        chosen.sinks.append(AnswerDisplay())
    else:
        chosen.sinks.append(renderer)
    if rendered:
        # Last: the widget has taken the run's end before its display is replaced.
        chosen.sinks.append(WidgetToRecord(handle, widget, with_steps=link is None))
    if mode != "auto" and not rendered:
        chosen.refusal = (f"--mode {mode} needs the run widget to ask you, and this frontend does not "
                          "show widgets. Use --mode auto here, or JupyterLab, Notebook 7 or VS Code.")
    return chosen
