"""The follow-up task set (tests/follow_up_tasks.py): twelve two-cell sessions over six small CSV
tables. The first cell loads the table; the second asks about it without naming it, so it is
answered only by going on from the run before. Our loop (the second request goes on with the
kernel's conversation, as a ``%%codeact`` cell without ``--new``) beside smolagents' CodeAgent (its
second ``run`` with ``reset=False``), same server, same run.

    python benchmarks/follow_ups.py [--harness ours,smolagents] [--tactics SPEC] [--out runs/x.jsonl]

Per session: the follow-up answered right (the right value; for a name, no other), computed (a step
printed the right value), prompt tokens and seconds of the follow-up alone; then totals and ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from follow_up_tasks import SESSIONS, FollowUp  # noqa: E402

from codeact_magic.bench.harness import (  # noqa: E402
    Ours, Outcome, Results, Smolagents, add_common_options, emit, follow_ups_line, median,
    model_label, pct, run_all, runners, task_table, typed_literal)

MAX_STEPS = 6


def _table(session: FollowUp) -> tuple[Path, object]:
    import pandas as pd

    path = session.table.write(Path(tempfile.mkdtemp(prefix="codeact-follow-ups-")))
    return path, pd.read_csv(path)


def run_ours(ours: Ours, session: FollowUp) -> Outcome:
    path, frame = _table(session)
    ours.run(f"{session.name}/load", session.table.load_request(path), reset=True, new=True)
    outcome, run = ours.run(session.name, session.question, reset=False, new=False)
    outputs = [s.output for s in run.steps]
    right = session.right(frame, run.answer)
    outcome.from_code = right and (outcome.from_code or session.computed(frame, outputs))
    outcome.score = {"solved": right, "went_on": getattr(run, "earlier", 0) > 0}
    return outcome


def run_smolagents(smol: Smolagents, session: FollowUp) -> Outcome:
    path, frame = _table(session)
    _, agent = smol.run(f"{session.name}/load", session.table.load_request(path), imports=["pandas"])
    before = len(agent.memory.steps)
    outcome, agent = smol.run(session.name, session.question, agent=agent)
    steps = agent.memory.steps[before:]
    # A final step's observation is the answer itself, not a computation of it.
    outputs = [str(getattr(s, "observations", "") or "") for s in steps if not getattr(s, "is_final_answer", False)]
    final = [s.code_action for s in steps if getattr(s, "is_final_answer", False) and getattr(s, "code_action", None)]
    right = session.right(frame, outcome.answer)
    # As for ours: handed to final_answer() from code that computed it, not typed in; or printed.
    outcome.from_code = right and (bool(final and not typed_literal(final[-1]))
                                   or session.computed(frame, outputs))
    outcome.score = {"solved": right, "went_on": True}
    return outcome


def _outputs(outcome: Outcome, session: FollowUp) -> list[str]:
    """What the follow-up's steps printed, read back from its conversation: the user's turns
    after the question (outputs, errors, the loop's follow-ups)."""
    turns = outcome.trajectory
    asked = [i for i, m in enumerate(turns) if m["role"] == "user" and session.question in str(m["content"])]
    start = asked[0] + 1 if asked else 0  # the request (a review may quote it again later)
    return [str(m["content"]) for m in turns[start:] if m["role"] == "user"]


def report(results: Results, harnesses: list[str], names: list[str], args: argparse.Namespace) -> str:
    lines = [f"\nFollow-up task set, {model_label(args.model)} (max {args.max_steps} steps), same server, "
             f"same run" + (f", tactics {args.tactics}" if args.tactics else "")
             + ": the second cell of each session"]
    lines.append(task_table(results, harnesses, names, "session", "steps", solved_word="right"))
    for h in harnesses:
        os_ = results.of(h, names)
        if not os_:
            continue
        right = sum(o.score["solved"] for o in os_)
        lines.append(f"{h}: right {right}/{len(os_)} ({pct(right, len(os_))}), went on from the first run "
                     f"{sum(o.score.get('went_on', False) for o in os_)}/{len(os_)}, prompt tokens per "
                     f"follow-up {sum(o.prompt_tokens for o in os_) / len(os_):,.0f}, median s "
                     f"{median([o.seconds for o in os_]):.1f}")
        if h == "ours" and (line := follow_ups_line(os_)):
            lines.append("  " + line)
    if len(harnesses) == 2 and all(results.of(h, names) for h in harnesses):
        a, b = (results.of(h, names) for h in harnesses)
        sa, sb = sum(o.score["solved"] for o in a), sum(o.score["solved"] for o in b)
        lines.append(f"ratio {harnesses[0]}/{harnesses[1]}: right {sa / max(1, sb):.2f}, prompt tokens "
                     f"{sum(o.prompt_tokens for o in a) / max(1, sum(o.prompt_tokens for o in b)):.2f}, "
                     f"seconds {sum(o.seconds for o in a) / max(1e-9, sum(o.seconds for o in b)):.2f}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--harness", default="ours,smolagents")
    p.add_argument("--sessions", help="comma-separated session names (e.g. survey-missing)")
    p.add_argument("--max-steps", type=int, default=MAX_STEPS)
    p.add_argument("--tactics", help="our loop's tactics (codeact_magic.tactics), e.g. 'default,+suggest'")
    p.add_argument("--out", type=Path, help="JSONL of outcomes; an existing file is resumed")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--show", action="store_true")
    add_common_options(p)
    args = p.parse_args()
    sessions = [s for s in SESSIONS if not args.sessions or s.name in args.sessions.split(",")]
    harnesses = args.harness.split(",")
    results = Results(args.out)
    if not args.report_only:
        run_all(sessions, runners(args, run_ours, run_smolagents), results, lambda s: s.name, show=args.show)
    for session in sessions:  # scored again from the answers: a file of an earlier rule reads the same
        _, frame = _table(session)
        for o in (o for (_, task), o in results.done.items() if task == session.name):
            o.score["solved"] = session.right(frame, o.answer)
            o.from_code = o.score["solved"] and (o.from_code or session.computed(frame, _outputs(o, session)))
    emit(report(results, harnesses, [s.name for s in sessions], args), args.report)


if __name__ == "__main__":
    main()
