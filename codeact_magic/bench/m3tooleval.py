"""M3ToolEval, the CodeAct paper's tool-use benchmark (82 tasks that must call Python functions):
our loop on the embedded model, and smolagents' CodeAgent on the same server, in the same run.

    python benchmarks/m3tooleval.py --code-act PATH [--harness ours,smolagents] [--slice K]
                                    [--out runs/x.jsonl] [--tactics SPEC]

PATH is a checkout of github.com/xingyaoww/code-act (its folder ``scripts/eval/m3tooleval/`` holds
the tasks, their tool functions and the scorer); nothing of it is copied into this project.

Each task's tools are put into the kernel as plain functions, documented with the benchmark's own
tool descriptions (what a user who hands functions to the agent would write); the request is the
task's instruction and the paper's answer rule ("Answer: ..." with only the answer). Two figures:
- first answer: the run's own final answer, scored once by the benchmark's ``check_answer``;
- the paper's protocol: up to 10 model turns; a wrong answer is told "Your answer is incorrect.
  Please try again..." (the paper's words) and the conversation goes on.

Known faults of the benchmark's scorer (kept as they are, so figures compare with the paper's):
- ``check_answer`` misses an ``or`` (``answer == self.expected_output \\ (isinstance(...``): after
  ``ast.literal_eval`` that line raises TypeError, swallowed by a bare ``except``, so a list answer
  scores only when its text equals ``str(expected)`` exactly ("[1, 2]" and not "[1,2]"), and a
  number given as "12.0" for an expected 12 scores only through the first, string-typed comparison;
- the answer is the text after the first "Answer:" up to a second one, unstripped of Markdown: an
  answer in bold (``**68.71**``) is wrong;
- floats are compared exactly (237.942 is right, 237.94 wrong), though some instructions ask for
  'xx.xx'.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import sys
from pathlib import Path
from typing import Any

from .harness import (Ours, Outcome, Results, Smolagents, add_common_options, emit, environment_line,
                      follow_ups_line, median, model_label, pct, run_all, runners, table)

# Success rate on the 82 tasks, code as action, from the CodeAct paper (Wang et al., 2024, Table 3).
PUBLISHED = [("gpt-4-1106-preview", 74.4), ("gpt-3.5-turbo-0613", 51.2),
             ("CodeActAgent-Mistral-7B", 12.2), ("Llama-2-70b-chat", 11.0)]
# The paper's answer rule, from the benchmark's own prompt (tasks/base.py, get_prompt).
ANSWER_RULE = ("When you are done, output the result using 'Answer: your answer'\n"
               "Please ONLY output the answer (e.g., single number), without any other text.")
# The paper's reply to a wrong answer (main.py, run_task).
INCORRECT = ("Your answer is incorrect. Please try again. Note that you should ONLY output the answer "
             "(e.g., single number), without any other text.")
TURNS = 10


def load(code_act: Path) -> list[Any]:
    folder = code_act / "scripts" / "eval" / "m3tooleval"
    if not (folder / "tasks" / "base.py").exists():
        raise SystemExit(f"{folder} is not the m3tooleval folder of a code-act checkout")
    sys.path.insert(0, str(folder))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from tasks import get_task_iterator  # registers every task as it imports

        return list(get_task_iterator())


def documented(name: str, function: Any, description: str) -> Any:
    """The tool as a plain function with its description as docstring (the signature stays the
    real one, through ``__wrapped__``)."""

    @functools.wraps(function)
    def tool(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = description.strip()
    tool.__module__ = "__main__"
    return tool


def answer_content(answer: str | None) -> str | None:
    """What the paper's parser takes as the answer: after the first "Answer:" (up to a second
    one); a final answer without that word counts as it is (ours ends a run without it)."""
    if answer is None:
        return None
    if "Answer:" in answer:
        return answer.split("Answer:")[1].strip()
    return answer.strip()


def correct(task: Any, answer: str | None) -> bool:
    content = answer_content(answer)
    if content is None:
        return False
    with contextlib.redirect_stdout(io.StringIO()):
        return bool(task.check_answer(content))


def tools_of(task: Any) -> dict[str, Any]:
    task.reset()
    return {name: documented(name, tool.function, tool.description) for name, tool in task.tools.items()}


def run_ours(ours: Ours, task: Any, turns: int = TURNS) -> Outcome:
    namespace = tools_of(task)
    request = f"{task.instruction.strip()}\n{ANSWER_RULE}"
    outcome, run = ours.run(task.name, request, namespace=namespace)
    first = correct(task, run.answer)
    limit, turns, solved, runs = turns, outcome.calls, first, [run]
    # The paper's protocol: the conversation goes on after a wrong answer, within 10 model turns.
    while ours.can_continue and not solved and run.status == "answered" and turns < limit:
        before = ours.max_steps
        ours.max_steps = max(1, limit - turns - 1)
        try:
            more, run = ours.run(task.name, INCORRECT, namespace=None, reset=False, after=run)
        finally:
            ours.max_steps = before
        runs.append(run)
        turns += more.calls
        outcome.steps += more.steps
        outcome.prompt_tokens += more.prompt_tokens
        outcome.completion_tokens += more.completion_tokens
        outcome.seconds += more.seconds
        solved = correct(task, run.answer)
    outcome.calls = turns
    outcome.score = {"first": first, "solved": solved, "attempts": len(runs), "turns": limit}
    return outcome


def run_smolagents(smol: Smolagents, task: Any, turns: int = TURNS) -> Outcome:
    namespace = tools_of(task)
    described = "\n".join(f"- {t.fn_signature}: {t.description.strip()}" for t in task.tools.values())
    request = (f"{task.instruction.strip()}\n\nThese Python functions are available to your code as "
               f"variables:\n{described}\n\n{ANSWER_RULE}")
    outcome, agent = smol.run(task.name, request, additional_args=namespace)
    first = correct(task, outcome.answer)
    solved, attempts, answer = first, 1, outcome.answer
    while not solved and answer is not None and outcome.calls < turns:
        more, agent = smol.run(task.name, INCORRECT, agent=agent, max_steps=turns - outcome.calls)
        attempts += 1
        outcome.calls += more.calls
        outcome.steps += more.steps
        outcome.prompt_tokens += more.prompt_tokens
        outcome.completion_tokens += more.completion_tokens
        outcome.seconds += more.seconds
        answer = more.answer
        solved = correct(task, answer)
    outcome.score = {"first": first, "solved": solved, "attempts": attempts, "turns": turns}
    return outcome


def report(tasks: list[Any], results: Results, harnesses: list[str], turns: int = TURNS) -> str:
    names = [t.name for t in tasks]
    rows = []
    groups = sorted({n.split("/")[0] for n in names})
    for h in harnesses:
        outcomes = results.of(h, names)
        for group in (*groups, "all"):
            chosen = [o for o in outcomes if group == "all" or o.task.startswith(group + "/")]
            if not chosen:
                continue
            first = sum(o.score["first"] for o in chosen)
            solved = sum(o.score["solved"] for o in chosen)
            rows.append([h, group, len(chosen), f"{first} ({pct(first, len(chosen))})",
                         f"{solved} ({pct(solved, len(chosen))})",
                         pct(sum(o.steps == 0 for o in chosen), len(chosen)),
                         sum(o.steps for o in chosen) / len(chosen),
                         sum(o.calls for o in chosen) / len(chosen),
                         round(sum(o.prompt_tokens for o in chosen) / len(chosen)),
                         median([o.seconds for o in chosen])])
    out = [table(["harness", "tasks of", "n", "first answer right", f"right within {turns} turns",
                  "no step", "steps/task", "turns/task", "prompt tok/task", "median s/task"], rows)]
    if len(harnesses) == 2:
        a, b = (results.of(h, names) for h in harnesses)
        shared = {o.task for o in a} & {o.task for o in b}
        a = [o for o in a if o.task in shared]
        b = [o for o in b if o.task in shared]
        fa, fb = sum(o.score["first"] for o in a), sum(o.score["first"] for o in b)
        ta, tb = sum(o.prompt_tokens for o in a), sum(o.prompt_tokens for o in b)
        out.append(f"\nSame {len(shared)} tasks, ratio {harnesses[0]}/{harnesses[1]}: first answers right "
                   f"{fa}/{fb}, prompt tokens {ta / max(1, tb):.2f}, seconds "
                   f"{sum(o.seconds for o in a) / max(1e-9, sum(o.seconds for o in b)):.2f}")
    if line := follow_ups_line(results.of("ours", names)):
        out.append("\n" + line)
    out.append("\n" + environment_line())
    out.append("\nPublished (82 tasks, code as action, within 10 turns): " +
               ", ".join(f"{m} {v:.1f} %" for m, v in PUBLISHED))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--code-act", type=Path, required=True, help="a checkout of xingyaoww/code-act")
    p.add_argument("--harness", default="ours", help="ours, smolagents, or both: ours,smolagents")
    p.add_argument("--slice", type=int, help="every K-th task (a spread-out sample)")
    p.add_argument("--offset", type=int, default=0,
                   help="with --slice, start at this task (--slice 2 --offset 1: the other half)")
    p.add_argument("--limit", type=int, help="the first N tasks (after --slice)")
    p.add_argument("--tasks", help="only tasks whose name contains one of these comma-separated substrings")
    p.add_argument("--turns", type=int, default=TURNS,
                   help="model turns of the paper's protocol (1: the first answer only)")
    p.add_argument("--max-steps", type=int, default=TURNS - 1,
                   help="steps of a first run (the paper allows 10 model turns in all)")
    p.add_argument("--tactics", help="our loop's tactics (codeact_magic.tactics), e.g. 'default,-check'")
    p.add_argument("--out", type=Path, help="JSONL of outcomes; an existing file is resumed")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--show", action="store_true", help="a line per task as it ends")
    add_common_options(p)
    args = p.parse_args(argv)

    tasks = load(args.code_act.resolve())
    if args.tasks:
        wanted = [w.strip() for w in args.tasks.split(",") if w.strip()]
        tasks = [t for t in tasks if any(w in t.name for w in wanted)]
    if args.slice:
        tasks = tasks[args.offset :: args.slice]
    if args.limit:
        tasks = tasks[: args.limit]
    harnesses = args.harness.split(",")
    results = Results(args.out)
    if not args.report_only:
        chosen = runners(args, lambda ours, task: run_ours(ours, task, args.turns),
                         lambda smol, task: run_smolagents(smol, task, args.turns))
        run_all(tasks, chosen, results, lambda t: t.name, show=args.show)
    emit(f"\nM3ToolEval: {len(tasks)} tasks, {model_label(args.model)}"
         + (f", tactics {args.tactics}" if args.tactics else "") + "\n\n"
         + report(tasks, results, harnesses, args.turns), args.report)


if __name__ == "__main__":
    main()
