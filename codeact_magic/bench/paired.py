"""Which reruns of a task measure a mechanism, and which only met the server's noise.

A mechanism (a tactic, a prompt) is measured by running the tasks it reaches again with it on and
comparing each rerun with the stored run. At temperature 0 that is a paired comparison only where
the two conversations agree up to the point the mechanism acts: llama.cpp reuses the previous
prompt's longest common prefix and evaluates the rest in other batches, which moves the logits by a
rounding, so at a near tie a rerun's reply can differ before anything the mechanism does (2 of 8
reruns at stop 30 differed at their very first reply). So: where do the two conversations first
differ? At a message the loop sent, the mechanism acted (or the same loop sent something else
because the earlier replies differed, which the earlier messages rule out: they are the same). At a
model's reply, with every message before it the same, the model differed on the same input: noise,
unless the mechanism acts on that very reply (a grammar, a sampled retry), which ``acts_after``
names by a text of the message that reply answers. A mechanism that takes messages out of the
conversation (``fresh_start``) leaves no prefix to compare past that point: the caller says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Divergence:
    """Where a rerun's conversation first differs from the stored run's."""

    at: int | None  # index of the first message that differs; None: the same conversation
    role: str | None  # the rerun's message there ("user": the loop's, "assistant": the model's)
    paired: bool  # the difference is the mechanism's, not the server's noise
    stored: bool = True  # both runs kept their conversation (a file rebuilt from a table has none)

    @property
    def label(self) -> str:
        if not self.stored:
            return "not paired: a conversation was not stored"
        if self.at is None:
            return "same conversation"
        who = "the loop's message" if self.role == "user" else "the model's reply"
        return f"{'paired' if self.paired else 'not paired'}: first differs at {who} {self.at}"


def divergence(before: list[dict[str, Any]], after: list[dict[str, Any]],
               acts_after: str | None = None) -> Divergence:
    """Compare two trajectories (lists of chat messages, as Outcome.trajectory holds them)."""
    if not before or not after:
        return Divergence(None, None, False, stored=False)
    for i, (a, b) in enumerate(zip(before, after)):
        if (a.get("role"), a.get("content")) != (b.get("role"), b.get("content")):
            if b.get("role") != "assistant":
                return Divergence(i, b.get("role"), True)
            answered = after[i - 1].get("content", "") if i else ""
            on_the_mechanism = bool(acts_after) and acts_after in str(answered)
            return Divergence(i, "assistant", on_the_mechanism)
    if len(before) == len(after):
        return Divergence(None, None, True)
    # One is the other and more. After the same last reply, the loop said more in one: its doing.
    # After the same last message of the loop, one went on with a reply: the other's reply to it
    # was not kept (a repeat the stall check drops, a sampled retry), and may have differed.
    i = min(len(before), len(after))
    role = (after if len(after) > i else before)[i].get("role")
    return Divergence(i, role, role != "assistant")
