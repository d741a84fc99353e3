"""The link between a run and the JupyterLab extension: one comm per run (docs/protocol.md).

Opened at the start of each run, never reused (a comm of an earlier page is dead after a browser
reload). No answer within a second, or a frontend without the target: the run renders inline.
Comm handlers only hand data to the event loop, thread-safely: under some ipykernel versions they
run in another thread.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..events import Event, FollowUp, ModelText, ModelWaiting, RunFinished, StepFinished, StepStarted
from .markdown import currency_as_text
from .routing import OutputRouter

TARGET = "codeact_magic"
VERSION = 1
HANDSHAKE_TIMEOUT = 1.0


def _usage(usage: Any) -> dict[str, Any]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "cost": usage.cost}


def _now_ms() -> float:
    return time.time() * 1000


class LabLink:
    def __init__(self, comm: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._comm = comm
        self._loop = loop
        self._ack: asyncio.Future = loop.create_future()
        self._sent_at: dict[int, float] = {}
        self._display_ids: set[str] = set()  # of displays in this run's step cells
        self.frontend: str | None = None  # the page that holds the run (its hello_ack's id)
        self.closed = False
        # Milliseconds from a step's code being ready to its cell being in the page.
        self.cell_latency_ms: list[float] = []
        # Who answers the questions of confirm and step modes asked in the panel (the run widget).
        self.on_decision: Any = None

    @classmethod
    async def open(cls, shell: Any, hello: dict[str, Any]) -> LabLink | None:
        """Handshake with the extension; None where no extension holds the run's notebook cell."""
        kernel = getattr(shell, "kernel", None)
        if kernel is None:
            return None
        parent = kernel.get_parent("shell") or {}
        cell_id = (parent.get("metadata") or {}).get("cellId")
        if not cell_id:
            return None  # not a notebook cell (a console, a client that sends no cell ids)
        try:
            from comm import create_comm
        except ImportError:
            return None
        loop = asyncio.get_running_loop()
        link = cls(None, loop)  # the comm comes next: its handlers need the link

        def on_msg(msg: dict) -> None:
            loop.call_soon_threadsafe(link._receive, msg["content"]["data"])

        def on_close(msg: dict) -> None:
            loop.call_soon_threadsafe(link._on_close)

        link._comm = create_comm(target_name=TARGET, data={"type": "hello", "version": VERSION,
                                                            "cell_id": cell_id, **hello})
        link._comm.on_msg(on_msg)
        link._comm.on_close(on_close)
        try:
            acked = await asyncio.wait_for(asyncio.shield(link._ack), HANDSHAKE_TIMEOUT)
        except asyncio.TimeoutError:
            acked = False
        if not acked:
            link.close()
            return None
        # Every page with the notebook open may have answered (two tabs, collaborators): the first
        # holds the run, and all of them are told which, so the transcript is written once.
        link._send({"type": "chosen", "frontend": link.frontend})
        return link

    def _receive(self, data: dict) -> None:
        kind = data.get("type")
        if kind == "hello_ack" and not self._ack.done():
            self.frontend = data.get("frontend")
            self._ack.set_result(data.get("version") == VERSION)
        elif kind in ("run", "skip", "continue", "stop") and self.on_decision is not None:
            # The panel's answer to a pending question (the run widget takes the same ones).
            self.on_decision(data)
        elif kind == "cell_shown":
            sent = self._sent_at.get(data.get("index"))
            if sent is not None:
                self.cell_latency_ms.append(float(data.get("at", 0)) - sent)

    def _on_close(self) -> None:
        self.closed = True
        if not self._ack.done():
            self._ack.set_result(False)

    def _send(self, data: dict) -> None:
        if not self.closed:
            self._comm.send(data)

    def pending(self, question: dict) -> None:
        """The run waits for the user (``question`` as the run widget's ``pending``), or, empty,
        no longer does: the panel shows the question or takes it away."""
        self._send({"type": "pending", "kind": question.get("kind"), "index": question.get("index"),
                    "code": question.get("code")})

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._comm.close()

    def router(self, index: int) -> OutputRouter:
        """Where step ``index``'s outputs go: into its cell."""
        return OutputRouter(lambda output: self._send({"type": "output", "index": index,
                                                       "output": output}), self._display_ids)

    def __call__(self, event: Event) -> None:
        if isinstance(event, ModelText):
            self._send({"type": "token", "turn": event.turn, "text": event.text})
        elif isinstance(event, StepStarted):
            self._sent_at[event.index] = _now_ms()
            self._send({"type": "step_started", "index": event.index, "code": event.code,
                        "sent_at": self._sent_at[event.index]})
        elif isinstance(event, StepFinished):
            step = event.step
            status = "timeout" if step.timed_out else "error" if step.error else "ok"
            error = {"ename": step.error.ename, "evalue": step.error.evalue} if step.error else None
            self._send({"type": "step_done", "index": event.index, "status": status, "error": error,
                        "execution_count": step.execution_count, "seconds": round(event.seconds, 3),
                        "usage": _usage(step.usage)})
        elif isinstance(event, FollowUp):
            self._send({"type": "followup", "kind": event.kind, "label": event.label})
        elif isinstance(event, ModelWaiting):
            self._send({"type": "waiting", "text": event.text})
        elif isinstance(event, RunFinished):
            run = event.run
            self._send({"type": "final", "status": run.status, "answer": run.answer,
                        # What the answer cell and the panel render: "$900" stays an amount.
                        "answer_markdown": currency_as_text(run.answer) if run.answer else None,
                        "note": run.note,
                        "summary": run.summary(), "usage": _usage(run.usage),
                        "created": run.created, "changed": run.changed,
                        "messages": run.messages})
            self.close()


UNDO_TIMEOUT = 2.0


async def request_removal(shell: Any, run_id: str) -> int | None:
    """Ask the pages that show this notebook to remove the cells run ``run_id`` inserted (never a
    user's cell). The number removed, from the first page to answer; None where no extension
    answered (a frontend without it, a console)."""
    kernel = getattr(shell, "kernel", None)
    parent = (kernel.get_parent("shell") or {}) if kernel is not None else {}
    cell_id = (parent.get("metadata") or {}).get("cellId")
    if not cell_id:
        return None
    try:
        from comm import create_comm
    except ImportError:
        return None
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()

    def on_msg(msg: dict) -> None:
        data = msg["content"]["data"]
        if data.get("type") == "undone":
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(int(data["removed"])))

    comm = create_comm(target_name=TARGET, data={"type": "undo", "version": VERSION,
                                                 "cell_id": cell_id, "run_id": run_id})
    comm.on_msg(on_msg)
    try:
        return await asyncio.wait_for(answer, UNDO_TIMEOUT)
    except asyncio.TimeoutError:
        return None
    finally:
        comm.close()
