"""A mechanism's reruns beside the stored runs, paired only where the conversations agree up to it.

    python benchmarks/paired.py BEFORE.jsonl AFTER.jsonl [--acts-after TEXT]

BEFORE holds the stored runs (benchmarks/dabench.py or m3tooleval.py --out), AFTER the same tasks
run again with the mechanism on. A line per task of AFTER: before → after (solved, status, steps,
prompt tokens) and where the two conversations first differ (codeact_magic/bench/paired.py); then
totals over the paired tasks and over all. ``--acts-after`` names a text of the message whose reply
the mechanism shapes (a grammar: the form's message), so a reply that differs there is its doing.
Rerun at the stored runs' code with only the mechanism changed: another change of what the loop
says (an error message worded otherwise) would count as the mechanism's. A run that started again (``fresh`` in its follow-ups) dropped its earlier attempts from the
conversation: whether they were the same cannot be read, and the line says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codeact_magic.bench.harness import Outcome, Results, table
from codeact_magic.bench.paired import divergence


def _runs(path: Path) -> dict[str, Outcome]:
    return {task: o for (harness, task), o in Results(path).done.items() if harness == "ours"}


def _state(o: Outcome) -> str:
    return f"{'solved' if o.score.get('solved') else 'not solved'}, {o.status}"


def _totals(pairs: list[tuple[Outcome, Outcome]]) -> list[str]:
    def both(f) -> str:
        return f"{sum(f(b) for b, _ in pairs):,} → {sum(f(a) for _, a in pairs):,}"
    return [str(len(pairs)), both(lambda o: bool(o.score.get("solved"))),
            both(lambda o: o.status == "stopped"), both(lambda o: o.prompt_tokens)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--acts-after", help="a text of the message whose reply the mechanism shapes")
    args = p.parse_args()
    before, after = _runs(args.before), _runs(args.after)
    rows, paired, every = [], [], []
    for task, a in after.items():
        b = before.get(task)
        if b is None:
            continue
        d = divergence(b.trajectory, a.trajectory, args.acts_after)
        restarted = "fresh" in a.follow_ups
        where = "started again: its earlier attempts are not in the file" if restarted else d.label
        rows.append([task, _state(b), _state(a), f"{b.steps} → {a.steps}",
                     f"{b.prompt_tokens:,} → {a.prompt_tokens:,}", "+".join(a.follow_ups) or "-", where])
        every.append((b, a))
        if d.paired and not restarted:
            paired.append((b, a))
    print(table(["task", "before", "after", "steps", "prompt tokens", "after's follow-ups", "conversations"],
                rows))
    print()
    print(table(["reruns", "n", "solved", "stopped", "prompt tokens"],
                [["paired", *_totals(paired)], ["all", *_totals(every)]]))


if __name__ == "__main__":
    main()
