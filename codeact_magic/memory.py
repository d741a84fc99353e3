"""What the runs in one kernel remember of each other: one conversation, kept within a budget.

A notebook is a conversation with data: "now plot that by month" means the previous run's data.
Every finished run is remembered; the next one is sent them before its request. To keep prompts
bounded, the oldest runs are told compactly first (the request, the code that worked, the answer),
then left out. Both happen oldest first and only ever to more runs as the conversation grows, so
what is sent stays the same from one run to the next up to where it last changed: the embedded
model's server reuses the prefix it has already read.

Memory lives in the kernel's process: restarting the kernel forgets it; ``--new`` starts afresh.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from .model import Message
from .run import Run

# Over the budget, the oldest runs are compacted until what is carried is this share of it.
LOW_WATER = 0.6
# Of a compacted run, the code of its steps that worked, at most this much.
COMPACT_CODE_CHARS = 1500
LEFT_OUT = "[{count} earlier request{s} of this conversation left out to keep it short]"
ENDED = {"max_steps": "the run stopped at its step limit", "stopped": "the run was stopped",
         "error": "the run failed"}


@dataclass(frozen=True)
class Remembered:
    """One finished run, as the conversation can carry it: whole or compact."""

    request: str
    answer: str | None
    whole: list[Message]  # its messages after the system prompt, as they were sent
    compact: list[Message]  # two messages: the request, then what was done and answered

    @staticmethod
    def of(run: Run) -> Remembered:
        whole = [dict(m) for m in run.messages[1 + run.earlier:] if m["role"] != "system"]
        # What the run came to, said at its end, so that the next request follows a reply: the
        # value final_answer() received (the model's last words are the call), or why there was
        # no answer ("why did that fail?").
        if run.status != "answered":
            why = ENDED.get(run.status or "", "the run ended")
            end = f"[{why}: {run.note}]" if run.note else f"[{why}]"
        elif run.answer_step is not None:
            end = f"[final_answer received: {run.answer}]"
        else:
            end = ""
        if end and whole and whole[-1]["role"] == "assistant":
            whole[-1] = {"role": "assistant", "content": whole[-1]["content"] + "\n" + end}
        elif end or (whole and whole[-1]["role"] == "user"):
            whole.append({"role": "assistant", "content": end or "[no reply]"})
        return Remembered(run.request, run.answer, whole, _compact(run))

    def size(self, form: str) -> int:
        return sum(len(m["content"]) for m in (self.whole if form == "whole" else self.compact))


def _compact(run: Run) -> list[Message]:
    worked = [s.code.strip() for s in run.steps if s.error is None and not s.timed_out]
    code = "\n".join(worked)
    if len(code) > COMPACT_CODE_CHARS:
        code = code[:COMPACT_CODE_CHARS].rsplit("\n", 1)[0] + "\n# [... cut]"
    parts = [f"[An earlier run, told in short: {len(run.steps)} step{'s' if len(run.steps) != 1 else ''} ran.]"]
    if code:
        parts.append(f"The code of the steps that worked:\n```python\n{code}\n```")
    if run.status == "answered" and run.answer is not None:
        parts.append(f"Answer: {run.answer}")
    else:
        parts.append(f"No answer: {ENDED.get(run.status or '', 'the run ended')}"
                     + (f" ({run.note})" if run.note else "") + ".")
    return [{"role": "user", "content": run.request},
            {"role": "assistant", "content": "\n".join(parts)}]


class Memory:
    """The runs of one kernel's conversation, oldest first."""

    def __init__(self) -> None:
        self.runs: list[Remembered] = []
        # How many of the oldest runs are told compactly, and how many are left out: both only
        # grow (the prefix sent stays stable), until forget().
        self._compacted = 0
        self._left_out = 0

    def remember(self, run: Run) -> None:
        self.runs.append(Remembered.of(run))

    def forget(self) -> None:
        self.runs, self._compacted, self._left_out = [], 0, 0

    def plan(self, budget_chars: int) -> tuple[int, int]:
        """(left out, compacted) for the next run. Over the budget, the oldest runs are compacted
        down to a low-water mark well under it, then left out, half of the compacted at once: the
        runs that follow then only add to what was sent, and the server's prompt cache keeps
        serving it."""
        left_out, compacted = self._left_out, max(self._compacted, self._left_out)

        def size() -> int:
            return sum(r.size("compact" if i < compacted else "whole")
                       for i, r in enumerate(self.runs) if i >= left_out)

        if size() <= budget_chars:
            return left_out, compacted
        # Room for the runs to come, unless the latest run alone takes more than that.
        goal = budget_chars * LOW_WATER
        if self.runs[-1].size("whole") > goal:
            goal = budget_chars
        # The latest run stays whole while anything older can give way.
        while size() > goal and compacted < len(self.runs) - 1:
            compacted += 1
        while size() > goal and left_out < compacted:
            left_out += max(1, (compacted - left_out) // 2)  # half of those told in short at once
        while size() > budget_chars and compacted < len(self.runs):
            compacted += 1
        while size() > budget_chars and left_out < len(self.runs):
            left_out += 1
        return left_out, compacted

    def history(self, budget_chars: int) -> list[Message]:
        """The messages the next run is sent before its request (no system prompt)."""
        left_out, compacted = self._left_out, self._compacted = self.plan(budget_chars)
        messages: list[Message] = []
        for i, run in enumerate(self.runs[left_out:], start=left_out):
            messages += [dict(m) for m in (run.compact if i < compacted else run.whole)]
        if left_out and messages:
            note = LEFT_OUT.format(count=left_out, s="s" if left_out != 1 else "")
            messages[0] = {"role": "user", "content": note + "\n\n" + messages[0]["content"]}
        return alternating(messages)

    def describe(self, budget_chars: int) -> str:
        """What ``%codeact history`` prints: what the next run will carry."""
        if budget_chars <= 0:
            return "Every run starts a new conversation (CodeAct.memory_chars is 0)."
        if not self.runs:
            return "The next run starts a new conversation (nothing remembered in this kernel)."
        left_out, compacted = self.plan(budget_chars)
        carried = self.runs[left_out:]
        chars = sum(r.size("compact" if i < compacted else "whole")
                    for i, r in enumerate(self.runs) if i >= left_out)
        lines = [f"The next run carries {len(carried)} earlier run{'s' if len(carried) != 1 else ''} "
                 f"of this conversation (~{chars // 4:,} tokens; budget ~{budget_chars // 4:,}; "
                 "--new starts afresh):"]
        for i, run in enumerate(self.runs, start=1):
            how = "left out" if i <= left_out else "in short" if i <= compacted else "whole"
            answer = (run.answer or "no answer").replace("\n", " ")
            request = run.request.replace("\n", " ")
            lines.append(f"  {i}. [{how}] {_clip(request, 70)} → {_clip(answer, 50)}")
        return "\n".join(lines)


def alternating(messages: list[Message]) -> list[Message]:
    """``messages`` with two in a row of one role joined into one: some chat templates refuse a
    conversation whose roles do not alternate (a run that ended on a note, then the next request)."""
    joined: list[Message] = []
    for m in messages:
        if joined and joined[-1]["role"] == m["role"]:
            joined[-1] = {"role": m["role"], "content": joined[-1]["content"] + "\n\n" + m["content"]}
        else:
            joined.append(dict(m))
    return joined


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_MEMORIES: weakref.WeakKeyDictionary[Any, Memory] = weakref.WeakKeyDictionary()


def memory_of(shell: Any) -> Memory:
    """The conversation of ``shell``'s kernel."""
    memory = _MEMORIES.get(shell)
    if memory is None:
        memory = _MEMORIES[shell] = Memory()
    return memory
