"""The dev task set on the embedded local model: our loop and smolagents' CodeAgent, side by side,
with the same local endpoint and model, in the same run.

    python benchmarks/local_tasks.py [--only ours|smolagents] [--tasks name,name]

Prints one row per task and a total: solved, model calls, prompt tokens, wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from dev_tasks import TASKS, Task, solved  # noqa: E402

MAX_STEPS = 6


@dataclass
class Outcome:
    solved: bool
    calls: int
    prompt_tokens: int
    seconds: float
    answer: str


_shell = None


def run_ours(task: Task) -> Outcome:
    global _shell
    from IPython.testing.globalipapp import start_ipython

    import codeact_magic

    if _shell is None:
        _shell = start_ipython()
        _shell.run_line_magic("load_ext", "codeact_magic")
    ip = _shell
    ip.run_line_magic("reset", "-f")  # each task sees only its own setup
    if task.setup:
        ip.run_cell(task.setup)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        result = ip.run_cell(f"import codeact_magic\nawait codeact_magic.arun({task.request!r}, "
                             f"model='local', max_steps={MAX_STEPS}, display=False)")
    seconds = time.perf_counter() - started
    assert result.success, result.error_in_exec
    run = codeact_magic.last_run()
    calls = sum(1 for m in run.messages if m["role"] == "assistant") + 1
    ok = solved(task, run.answer) and len(run.steps) > 0
    return Outcome(ok, calls, run.usage.prompt_tokens, seconds, run.answer or f"[{run.status}] {run.note}")


def run_smolagents(task: Task, api_base: str, api_key: str) -> Outcome:
    from smolagents import CodeAgent, LiteLLMModel

    from codeact_magic.local.server import ALIAS

    logging.getLogger("smolagents").setLevel(logging.ERROR)
    # As DESIGN.md found: this server needs flattened messages, and max_tokens set.
    model = LiteLLMModel(model_id=f"openai/{ALIAS}", api_base=api_base, api_key=api_key,
                         flatten_messages_as_text=True, max_tokens=1024)
    agent = CodeAgent(tools=[], model=model, max_steps=MAX_STEPS, verbosity_level=0)
    state: dict = {}
    if task.setup:
        exec(task.setup, state)
        state.pop("__builtins__", None)
    started = time.perf_counter()
    try:
        answer = str(agent.run(task.request, additional_args=state or None))
    except Exception as exc:  # a failed run counts as unsolved
        answer = f"[error] {exc}"
    seconds = time.perf_counter() - started
    tokens = agent.monitor.get_total_token_counts()
    steps = [s for s in agent.memory.steps if type(s).__name__ == "ActionStep"]
    ran_code = any(getattr(s, "code_action", None) for s in steps)
    return Outcome(solved(task, answer) and ran_code, len(steps), tokens.input_tokens, seconds, answer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["ours", "smolagents"])
    parser.add_argument("--tasks", help="comma-separated task names")
    parser.add_argument("--show-answers", action="store_true")
    args = parser.parse_args()
    tasks = [t for t in TASKS if not args.tasks or t.name in args.tasks.split(",")]

    from codeact_magic.local.server import ensure_running

    state = ensure_running(print)
    harnesses = {"ours": lambda t: run_ours(t),
                 "smolagents": lambda t: run_smolagents(t, state.api_base, state.api_key)}
    chosen = [args.only] if args.only else list(harnesses)
    results: dict[str, list[Outcome]] = {h: [] for h in chosen}
    # One harness after the other, so each keeps the server's prompt-prefix cache between its calls.
    for h in chosen:
        for task in tasks:
            outcome = harnesses[h](task)
            results[h].append(outcome)
            if args.show_answers:
                print(f"  {h:<10} {task.name:<16} {'OK ' if outcome.solved else 'NO '} "
                      f"{outcome.answer[:100]!r}", flush=True)

    head = f"{'task':<16}" + "".join(f" | {h:<10} {'calls':>5} {'prompt tok':>10} {'s':>6}" for h in chosen)
    print(f"\nDev task set on the embedded model (max {MAX_STEPS} steps), same server, same run")
    print(head)
    print("-" * len(head))
    for i, task in enumerate(tasks):
        row = f"{task.name:<16}"
        for h in chosen:
            o = results[h][i]
            row += f" | {'solved' if o.solved else '-':<10} {o.calls:>5} {o.prompt_tokens:>10,} {o.seconds:>6.1f}"
        print(row)
    print("-" * len(head))
    total = f"{'total':<16}"
    for h in chosen:
        rs = results[h]
        total += (f" | {sum(o.solved for o in rs):>2}/{len(rs):<7} {sum(o.calls for o in rs):>5} "
                  f"{sum(o.prompt_tokens for o in rs):>10,} {sum(o.seconds for o in rs):>6.1f}")
    print(total)
    if len(chosen) == 2:
        a, b = (results[h] for h in chosen)
        print(f"ratio ours/smolagents: prompt tokens "
              f"{sum(o.prompt_tokens for o in a) / max(1, sum(o.prompt_tokens for o in b)):.2f}, "
              f"wall time {sum(o.seconds for o in a) / max(1e-9, sum(o.seconds for o in b)):.2f}")


if __name__ == "__main__":
    main()
