"""What the loop tells its frontends as a run goes on. Frontends render; the loop never does."""

from __future__ import annotations

from dataclasses import dataclass

from .run import Run, Step


@dataclass(frozen=True)
class RunStarted:
    run: Run
    max_steps: int


@dataclass(frozen=True)
class ModelText:
    """A piece of the model's reply as it streams in; ``turn`` counts model calls from 1."""

    text: str
    turn: int


@dataclass(frozen=True)
class StepStarted:
    index: int  # 1-based
    code: str


@dataclass(frozen=True)
class StepFinished:
    index: int
    step: Step
    seconds: float


@dataclass(frozen=True)
class RunFinished:
    run: Run


Event = RunStarted | ModelText | StepStarted | StepFinished | RunFinished
