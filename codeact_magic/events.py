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
class ModelWaiting:
    """The model's server is busy with another request (another kernel's run): this one waits."""

    text: str


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
class FollowUp:
    """The loop sent the model a message of its own (not an output): ``kind`` is "nudge" (it
    answered without running code), "review" (the request restated before the answer), "stall"
    (it repeated itself), "resample" (it repeated itself again: asked once more at a temperature),
    "fresh" (it repeated itself again: the conversation started again from the request),
    "line" (a step failed on the same line as the one before), "form" (the answer lacks the form
    the request gives), "cut" (its reply ended before it was whole), "empty" (it said nothing),
    "echo" (it copied the loop's message back), "given", "unseen" (its code typed out values
    nothing showed it), "unshown" (its answer gave numbers nothing showed it), "no_value" (parts
    of its answer hold no value) or "language"."""

    kind: str
    text: str

    @property
    def label(self) -> str:
        """What a frontend shows of it: one short line."""
        return FOLLOW_UP_LABELS.get(self.kind, self.kind)


FOLLOW_UP_LABELS = {
    "nudge": "answered without running code: asked to compute it",
    "review": "asked to check the answer against the request",
    "stall": "repeated itself: asked for another way",
    "resample": "repeated itself again: asked once more, sampled",
    "fresh": "repeated itself again: started again from the request, the failed code left out",
    "line": "failed on the same line again: told to change that line",
    "form": "answered not in the form asked: shown the form",
    "cut": "the reply ended before it was whole: asked again",
    "empty": "the reply was empty: asked again",
    "echo": "the reply copied the loop's message: asked again",
    "given": "defined again a function it was given: told to use it",
    "unseen": "typed out values nothing showed it: told to get them with code",
    "unshown": "answered with numbers nothing showed: told to compute them",
    "no_value": "parts of the answer hold no value (NaN, None): told to compute them",
    "language": "wrote code in another language: told only Python runs",
}


@dataclass(frozen=True)
class RunFinished:
    run: Run


Event = RunStarted | ModelWaiting | ModelText | StepStarted | StepFinished | FollowUp | RunFinished
