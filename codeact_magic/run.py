"""The record of a run: what the user gets back from ``last_run()`` and ``arun()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import uuid4

from .failing_line import FailingLine

RunStatus = Literal["answered", "max_steps", "stopped", "error"]


@dataclass
class Usage:
    """Tokens and cost. ``cost`` is None when the provider's price is unknown."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = 0.0
    # True when a figure was counted locally because the provider sent none
    # (for instance a stream cut at the end of the first code block).
    estimated: bool = False
    calls: int = 0  # model calls (requests) these figures add up

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls
        if self.cost is None or other.cost is None:
            self.cost = None
        else:
            self.cost += other.cost
        self.estimated = self.estimated or other.estimated


@dataclass(frozen=True)
class StepError:
    """The exception a step raised, as the user and the model know it."""

    ename: str
    evalue: str
    # The line of the step's own code that raised it, when the traceback shows one.
    where: FailingLine | None = None


@dataclass
class Step:
    """One model action: the code that ran and what the model was shown for it."""

    code: str
    output: str = ""
    # The model's words before the code: why it took this step (redacted like the output).
    thought: str = ""
    error: StepError | None = None
    execution_count: int | None = None
    timed_out: bool = False
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0  # how long the code ran


@dataclass
class Run:
    request: str
    model: str
    status: RunStatus | None = None
    answer: str | None = None
    # One plain sentence on why the run ended other than by an answer.
    note: str | None = None
    # The step whose code gave the answer through final_answer(), or None (an answer in words).
    answer_step: int | None = None
    steps: list[Step] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    # What the loop sent the model besides outputs, in order (FollowUp kinds: "nudge", "stall"…):
    # which of its tactics a run needed, for the benchmarks and for reading a trajectory.
    follow_ups: list[str] = field(default_factory=list)
    # The conversation with the model (redacted), for inspection and for a run that goes on.
    messages: list[dict] = field(default_factory=list)
    # How many of those, after the system prompt, are earlier runs' (the kernel's conversation).
    earlier: int = 0
    # Names the run's cells in the notebook (metadata.codeact.run_id), for undo and export.
    id: str = field(default_factory=lambda: uuid4().hex[:12])
    # The user's variables the run's steps created, and those they bound to something else.
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    # With the JupyterLab extension: ms from each step's code being ready to its cell in the page.
    ui_latency_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        """The one line every frontend ends a run with: outcome, steps, tokens, cost, model."""
        n = len(self.steps)
        what = {"answered": "Answered", "max_steps": "Stopped at the step limit",
                "stopped": "Stopped", "error": "Failed"}.get(self.status or "", "Ended")
        usage = self.usage
        tokens = f"{usage.total_tokens:,} tokens" + (" (estimated)" if usage.estimated else "")
        cost = "cost unknown" if usage.cost is None else f"${usage.cost:.4f}"
        return f"{what} after {n} step{'s' if n != 1 else ''} · {tokens} · {cost} · {self.model}"

    def variables_line(self) -> str:
        """``Variables: new total, city · changed sales`` ("" when the run left none)."""
        parts = ([f"new {', '.join(self.created)}"] if self.created else []) + (
            [f"changed {', '.join(self.changed)}"] if self.changed else [])
        return f"Variables: {' · '.join(parts)}" if parts else ""
