"""The dev task set on the embedded model: our loop and smolagents' CodeAgent, side by side, with the
same local endpoint and model, in the same run; and what a plain conversational question costs.

    python benchmarks/local_tasks.py [--harness ours,smolagents] [--tactics SPEC] [--out runs/x.jsonl]

Prints one row per task: solved, computed by a step (not answered from memory), model calls, prompt
tokens, seconds; totals and ratios; then the conversational questions (no code needed): steps,
calls and tokens each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from dev_tasks import TASKS, Task, computed, solved  # noqa: E402

from codeact_magic.bench.harness import (  # noqa: E402
    Ours, Outcome, Results, Smolagents, local_endpoint, median, run_all, table, task_table)

MAX_STEPS = 6
# Questions a user asks that need no code: they should stay cheap (answered in words, or at worst
# with one more short call).
CONVERSATION = (
    Task("hello", "Hello! What can you help me with?", ()),
    Task("concept", "In one paragraph: what is the difference between a list and a tuple in Python?", ()),
    Task("thanks", "Thanks, that is all for now.", ()),
)


def run_ours(ours: Ours, task: Task) -> Outcome:
    outcome, run = ours.run(task.name, task.request, setup=task.setup)
    outputs = [s.output for s in run.steps]
    answer_code = run.steps[run.answer_step - 1].code if getattr(run, "answer_step", None) else None
    ok = solved(task, run.answer) if task.answers else True
    outcome.from_code = bool(task.answers) and ok and computed(task, outputs, answer_code)
    outcome.score = {"solved": ok}
    return outcome


def run_smolagents(smol: Smolagents, task: Task) -> Outcome:
    state: dict = {}
    if task.setup:
        exec(task.setup, state)
        state.pop("__builtins__", None)
    outcome, agent = smol.run(task.name, task.request, additional_args=state or None)
    ok = solved(task, outcome.answer) if task.answers else True
    steps = agent.memory.steps
    observations = [str(getattr(s, "observations", "") or "") for s in steps]
    final = [s.code_action for s in steps if getattr(s, "is_final_answer", False) and getattr(s, "code_action", None)]
    outcome.from_code = bool(task.answers) and ok and computed(task, observations, final[-1] if final else None)
    outcome.score = {"solved": ok}
    return outcome


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--harness", default="ours,smolagents")
    p.add_argument("--tasks", help="comma-separated task names")
    p.add_argument("--tactics", help="our loop's tactics (codeact_magic.tactics)")
    p.add_argument("--out", type=Path, help="JSONL of outcomes; an existing file is resumed")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--show", action="store_true")
    args = p.parse_args()
    tasks = [t for t in (*TASKS, *CONVERSATION) if not args.tasks or t.name in args.tasks.split(",")]
    harnesses = args.harness.split(",")
    results = Results(args.out)
    if not args.report_only:
        model_id, api_base, api_key = local_endpoint()
        runners = {}
        for h in harnesses:
            if h == "ours":
                ours = Ours(max_steps=MAX_STEPS, tactics=args.tactics)
                runners[h] = lambda t, ours=ours: run_ours(ours, t)
            elif h == "smolagents":
                smol = Smolagents(model_id, api_base, api_key, max_steps=MAX_STEPS)
                runners[h] = lambda t, smol=smol: run_smolagents(smol, t)
        run_all(tasks, runners, results, lambda t: t.name, show=args.show)

    work = [t.name for t in tasks if t.answers]
    talk = [t.name for t in tasks if not t.answers]
    print(f"\nDev task set on the embedded model (max {MAX_STEPS} steps), same server, same run"
          + (f", tactics {args.tactics}" if args.tactics else ""))
    print(task_table(results, harnesses, work, "task", "calls"))
    for h in harnesses:
        os_ = results.of(h, work)
        solved_ = [o for o in os_ if o.score["solved"]]
        if solved_:
            print(f"{h}: prompt tokens per solved task {sum(o.prompt_tokens for o in os_) / len(solved_):,.0f}, "
                  f"median s per task {median([o.seconds for o in os_]):.1f}")
    if len(harnesses) == 2 and all(results.of(h, work) for h in harnesses):
        a, b = (results.of(h, work) for h in harnesses)
        sa, sb = sum(o.score["solved"] for o in a), sum(o.score["solved"] for o in b)
        ta, tb = sum(o.prompt_tokens for o in a), sum(o.prompt_tokens for o in b)
        print(f"ratio {harnesses[0]}/{harnesses[1]}: prompt tokens per solved task "
              f"{(ta / max(1, sa)) / max(1, tb / max(1, sb)):.2f}, wall time "
              f"{sum(o.seconds for o in a) / max(1e-9, sum(o.seconds for o in b)):.2f}")
    if talk:
        print("\nConversational questions (no code needed)")
        rows = []
        for name in talk:
            row = [name]
            for h in harnesses:
                [o] = results.of(h, [name]) or [None]
                row += ["-"] * 4 if o is None else [o.steps, o.calls, o.prompt_tokens, o.seconds]
            rows.append(row)
        print(table(["question"] + [f"{h} {c}" for h in harnesses for c in ("steps", "calls", "prompt tok", "s")],
                    rows))


if __name__ == "__main__":
    main()
