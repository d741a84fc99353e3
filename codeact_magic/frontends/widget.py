"""The run widget (anywidget): a live view of the run in the magic cell, with Stop, the approvals
of the ``confirm`` and ``step`` modes, tokens and cost. Works in every widget frontend (JupyterLab,
Notebook 7, VS Code); where widgets do not render, the run falls back to plain inline output.

Stop from the widget is a comm message: it ends the run at once while the model streams or an
async step awaits, but a synchronous step holds the kernel's only thread, so the message is read
when that step ends (the kernel's ■ Interrupt cuts a step at once).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..control import Decision, Mode
from ..events import (Event, FollowUp, ModelText, ModelWaiting, RunFinished, RunStarted, StepFinished,
                      StepStarted)
from .markdown import highlighted, to_html
from .throttle import Throttle

_STATIC = Path(__file__).parent / "static"
READY_TIMEOUT = 1.0
_SHORT = 400  # characters of a step's output shown in the widget


def whole_words(text: str) -> str:
    """What of a streaming reply to show: up to its last whitespace, so that a word arriving in two
    pieces is never shown cut ("ab" then "about")."""
    if not text or text[-1].isspace():
        return text
    cut = max(text.rfind(" "), text.rfind("\n"))
    return text[:cut + 1] if cut >= 0 else ""


def preview(output: str, limit: int = _SHORT) -> str:
    """A step's output cut to about ``limit`` characters, keeping its last line: a traceback's last
    line names the error."""
    if len(output) <= limit:
        return output
    last = output.rstrip("\n").rpartition("\n")[2]
    last = last[-(limit // 2):]
    return output[:max(0, limit - len(last))].rstrip() + "\n…\n" + last


class RunWidget(anywidget.AnyWidget):
    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    status = traitlets.Unicode("starting").tag(sync=True)
    running = traitlets.Bool(True).tag(sync=True)
    model_name = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Unicode("auto").tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    # The same text rendered: Markdown, code highlighted (markdown.to_html: raw HTML is not run).
    text_html = traitlets.Unicode("").tag(sync=True)
    steps = traitlets.List([]).tag(sync=True)
    pending = traitlets.Dict({}).tag(sync=True)
    usage = traitlets.Dict({}).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    # Steps shown open, code and output, when they are not cells of their own (no JupyterLab link).
    expand_steps = traitlets.Bool(True).tag(sync=True)
    outcome = traitlets.Unicode("").tag(sync=True)

    def __init__(self, *, model: str, mode: Mode, max_steps: int, **kwargs: Any) -> None:
        super().__init__(model_name=model, mode=mode, **kwargs)
        self.max_steps = max_steps
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._ready: asyncio.Future = self._loop.create_future()
        self._answer: asyncio.Future | None = None
        self._throttle = Throttle()
        self._reply = ""
        self._run: Any = None
        self.stop_requested = False
        # Comm handlers may run in another thread: hand everything to the loop.
        self.on_msg(lambda _w, content, _b: self._loop.call_soon_threadsafe(self._receive, content))

    def receive(self, content: dict) -> None:
        """An answer from elsewhere (the JupyterLab panel), on the event loop: as the widget's own."""
        self._receive(content)

    # ---- the frontend's side ----

    async def rendered(self) -> bool:
        """Whether a frontend rendered the widget (it says so at once); False after a second."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT)
        except asyncio.TimeoutError:
            return False

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # A frontend without widgets (jupyter console) shows text/plain: nothing, rather than
        # "<RunWidget object at 0x…>"; the run then renders as plain output.
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle  # (data, metadata) from anywidget
        if isinstance(data, dict):
            data["text/plain"] = ""
        return bundle

    def _receive(self, content: dict) -> None:
        kind = content.get("type")
        if kind == "ready":
            if not self._ready.done():
                self._ready.set_result(True)
        elif kind == "stop":
            if self._task is None:
                return  # the run has ended: a late Stop must not cancel what the cell does next
            self.stop_requested = True
            self.status = "stopping…"
            if self._answer is not None and not self._answer.done():
                self._answer.set_result(Decision("stop"))
            elif self._task is not None:
                # Ends a model reply or an awaiting step at once.
                self._task.cancel()
        elif self._answer is not None and not self._answer.done():
            if kind == "run":
                self._answer.set_result(Decision("run", str(content.get("code", ""))))
            elif kind == "skip":
                self._answer.set_result(Decision("skip"))
            elif kind == "continue":
                self._answer.set_result(Decision("run"))

    # ---- the loop's Control ----

    async def _ask(self, pending: dict, status: str) -> Decision:
        # The whole reply, not the last throttled piece of it; with code to approve, its words
        # only: the code is shown once, where it is approved.
        words = self._reply.split("```", 1)[0].rstrip() if pending.get("kind") == "approve" else self._reply
        self._show(words)
        self._answer = self._loop.create_future()
        self.pending, self.status = pending, status
        try:
            return await self._answer
        finally:
            self._answer = None
            self.pending = {}

    async def approve(self, index: int, code: str) -> Decision:
        if self.mode != "confirm":
            return Decision("run", code)
        decision = await self._ask({"kind": "approve", "index": index, "code": code,
                                    "code_html": highlighted(code)},
                                   f"step {index} awaits your approval")
        if decision.action == "run" and not decision.code.strip():
            return Decision("run", code)
        return decision

    async def resume(self, index: int) -> bool:
        if self.mode != "step":
            return True
        decision = await self._ask({"kind": "continue", "index": index}, f"paused after step {index}")
        return decision.action != "stop"

    # ---- events ----

    def _set_step(self, index: int, **fields: Any) -> None:
        steps = [dict(s) for s in self.steps]
        for s in steps:
            if s["index"] == index:
                s.update(fields)
                break
        else:
            steps.append({"index": index, "execution_count": None, "error": "", "output": "", **fields})
        for s in steps:
            if s["index"] == index and "code" in fields:
                s["code_html"] = highlighted(fields["code"])
        self.steps = steps

    def _show(self, text: str) -> None:
        """The model's words so far, as text and as rendered Markdown."""
        self.text, self.text_html = text, to_html(text) if text else ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._run = event.run
            self.status = "waiting for the model"
        elif isinstance(event, ModelText):
            self._reply += event.text
            if self._throttle.due(len(self._reply)):  # bytes sent stay near linear in its length
                self._show(whole_words(self._reply))
            if self.status != "the model is writing":
                self.status = "the model is writing"
        elif isinstance(event, StepStarted):
            self._reply = ""
            self._show("")
            self._set_step(event.index, code=event.code, status="running")
            self.status = f"step {event.index}/{self.max_steps} running"
        elif isinstance(event, StepFinished):
            step = event.step
            status = "timeout" if step.timed_out else "error" if step.error else "done"
            output = preview(step.output)
            self._set_step(event.index, code=step.code, status=status, output=output,
                           execution_count=step.execution_count,
                           error=f"{step.error.ename}: {step.error.evalue}" if step.error else "",
                           tokens=step.usage.total_tokens, cost=step.usage.cost)
            self.status = "waiting for the model"
        elif isinstance(event, FollowUp):
            self._reply = ""
            self._show("")
            self.status = f"↻ {event.label}"
        elif isinstance(event, ModelWaiting):
            self.status = event.text
        elif isinstance(event, RunFinished):
            run = event.run
            self._task = None  # from now on a Stop has nothing to stop
            self._show(self._reply if run.status != "answered" else "")
            self.running = False
            self.pending = {}
            self.outcome = run.status or ""
            self.status = {"answered": "answered", "max_steps": "stopped at the step limit",
                           "stopped": "stopped", "error": "failed"}.get(run.status or "", "ended")
            self.note = run.note or ""
            self.summary = run.summary()
        if self._run is not None and not isinstance(event, ModelText):
            u = self._run.usage
            self.usage = {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                          "cost": u.cost}
