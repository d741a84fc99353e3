"""What the task-success benchmarks share: our loop and smolagents' CodeAgent on the same endpoint,
one task at a time, each outcome appended to a JSONL file as it comes (a long run can be resumed and
two runs compared), and the tables they print.

Both harnesses run in this process: ours in an in-process IPython shell (the kernel the user would
have), smolagents in its own local executor. They talk to the same model server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from codeact_magic.final_answer import typed_literal  # noqa: E402  (after litellm's setting; shared with the tests)
# The repository's root, in a checkout (the benchmarks' data is found beside it by default).
ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Outcome:
    """One task done by one harness."""

    task: str
    harness: str
    answer: str | None  # the final answer as the harness returned it
    status: str  # answered, max_steps, stopped, error
    steps: int  # code steps that ran
    calls: int  # model calls
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    # The answer came out of code that ran: a step computed the value it handed to final_answer(),
    # or a step's output holds it (each benchmark checks the latter against its own labels).
    from_code: bool = False
    # Whatever the benchmark scores: solved, sub-answers right...
    score: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    # The whole conversation with the model (ours: Run.messages), to read what went wrong.
    trajectory: list[dict] = field(default_factory=list)
    # Ours: what the loop sent besides outputs (Run.follow_ups: "nudge", "stall", "resample"…).
    follow_ups: list[str] = field(default_factory=list)


class Results:
    """Outcomes appended to a JSONL file as they come; tasks already there are skipped on resume."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.done: dict[tuple[str, str], Outcome] = {}
        if path is not None and path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    o = Outcome(**json.loads(line))
                    self.done[(o.harness, o.task)] = o

    def add(self, outcome: Outcome) -> None:
        self.done[(outcome.harness, outcome.task)] = outcome
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps(asdict(outcome)) + "\n")

    def of(self, harness: str, tasks: Iterable[str]) -> list[Outcome]:
        return [self.done[(harness, t)] for t in tasks if (harness, t) in self.done]


# ---- our loop, in an in-process IPython shell ----

class Ours:
    """``codeact_magic.arun`` in an in-process IPython shell, with the embedded model by default."""

    name = "ours"

    def __init__(self, model: str = "local", max_steps: int = 10, tactics: str | None = None,
                 api_base: str | None = None) -> None:
        from IPython.testing.globalipapp import start_ipython

        # A step's `pip install` (the small model ran `pip install selenium` in a web-browsing
        # task) would change the environment every later task runs in, and the versions the
        # report names with it: here pip and uv find no index, as on a machine offline, and the
        # step reads pip's own error. The shell is this process, its subprocesses inherit it.
        os.environ["PIP_NO_INDEX"] = "1"
        os.environ["UV_OFFLINE"] = "1"
        self.model, self.max_steps, self.api_base = model, max_steps, api_base
        self.tactics = tactics
        self.shell = start_ipython()
        self.shell.run_line_magic("load_ext", "codeact_magic")
        import inspect

        from codeact_magic import arun

        # Older versions of the loop cannot go on with a finished run's conversation.
        self.can_continue = "after" in inspect.signature(arun).parameters

    def run(self, task: str, request: str, namespace: dict[str, Any] | None = None,
            setup: str = "", cwd: str | None = None, reset: bool = True,
            after: Any = None, new: bool = True) -> tuple[Outcome, Any]:
        """``after``: a finished run whose conversation this request continues; ``new=False``: go
        on with the kernel's conversation, as a ``%%codeact`` cell without ``--new`` does."""
        import codeact_magic

        ip = self.shell
        if reset:
            ip.run_line_magic("reset", "-f")  # each task sees only what it is given
        if setup:
            ip.run_cell(setup, store_history=True)  # a cell the user ran, as in a notebook
        if namespace:
            ip.push(namespace)
        options = {"model": self.model, "max_steps": self.max_steps, "display": False}
        if self.api_base:
            options["api_base"] = self.api_base
        if self.tactics is not None:
            options["tactics"] = self.tactics
        if after is not None:
            options["after"] = after
        else:
            options["new"] = new  # by default a task is a conversation of its own, not the next of the last
        ip.user_ns["__bench_options"] = options
        here = os.getcwd()
        started = time.perf_counter()
        try:
            if cwd:
                os.chdir(cwd)
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                result = ip.run_cell(f"import codeact_magic as __cm\n"
                                     f"await __cm.arun({request!r}, **__bench_options)")
        finally:
            os.chdir(here)
        seconds = time.perf_counter() - started
        if not result.success:
            raise RuntimeError(f"the run itself failed: {result.error_in_exec!r}")
        run = codeact_magic.last_run()
        calls = getattr(run.usage, "calls", 0) or sum(m["role"] == "assistant" for m in run.messages) + 1
        answer_step = getattr(run, "answer_step", None)
        from_code = answer_step is not None and not typed_literal(run.steps[answer_step - 1].code)
        outcome = Outcome(task, self.name, run.answer, run.status, len(run.steps), calls,
                          run.usage.prompt_tokens, run.usage.completion_tokens, seconds,
                          from_code=from_code, note=run.note, trajectory=list(run.messages),
                          follow_ups=list(getattr(run, "follow_ups", [])))
        return outcome, run


# ---- smolagents' CodeAgent, same endpoint ----

class Smolagents:
    """smolagents' CodeAgent on the same OpenAI-compatible endpoint."""

    name = "smolagents"

    def __init__(self, model_id: str, api_base: str, api_key: str, max_steps: int = 10,
                 max_tokens: int = 1024) -> None:
        from smolagents import LiteLLMModel

        logging.getLogger("smolagents").setLevel(logging.ERROR)
        # As DESIGN.md found: llama.cpp's server needs flattened messages, and max_tokens set.
        self.model = LiteLLMModel(model_id=model_id, api_base=api_base, api_key=api_key,
                                  flatten_messages_as_text=True, max_tokens=max_tokens, temperature=0)
        self.max_steps = max_steps

    def run(self, task: str, request: str, additional_args: dict[str, Any] | None = None,
            imports: list[str] | None = None, cwd: str | None = None, agent: Any = None,
            max_steps: int | None = None) -> tuple[Outcome, Any]:
        """``agent``: an agent whose memory this request continues (``reset=False``)."""
        from smolagents import CodeAgent

        fresh = agent is None
        if fresh:
            agent = CodeAgent(tools=[], model=self.model, max_steps=self.max_steps, verbosity_level=0,
                              additional_authorized_imports=imports or [])
        agent.monitor.reset()
        steps_before = len(agent.memory.steps)
        here = os.getcwd()
        started = time.perf_counter()
        status, note = "answered", None
        try:
            if cwd:
                os.chdir(cwd)
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                answer = agent.run(request, additional_args=additional_args or None, reset=fresh,
                                   max_steps=max_steps or self.max_steps)
            answer = None if answer is None else str(answer)
        except Exception as exc:  # a failed run counts as unsolved
            answer, status, note = None, "error", f"{type(exc).__name__}: {exc}"
        finally:
            os.chdir(here)
        seconds = time.perf_counter() - started
        tokens = agent.monitor.get_total_token_counts()
        steps = [s for s in agent.memory.steps[steps_before:] if type(s).__name__ == "ActionStep"]
        ran = [s for s in steps if getattr(s, "code_action", None)]
        final = any(getattr(s, "is_final_answer", False) for s in steps)
        if answer is not None and not final:
            status = "max_steps"  # smolagents answers from a last model call without code then
        trajectory = []
        for step in steps:
            if getattr(step, "model_output", None):
                trajectory.append({"role": "assistant", "content": str(step.model_output)})
            if getattr(step, "observations", None) or getattr(step, "error", None):
                trajectory.append({"role": "user", "content": str(step.observations or step.error)})
        outcome = Outcome(task, self.name, answer, status, len(ran), len(steps), tokens.input_tokens,
                          tokens.output_tokens, seconds, from_code=final, note=note, trajectory=trajectory)
        return outcome, agent


def add_common_options(p: Any) -> None:
    """The options every benchmark command has: the model, and where the report goes."""
    p.add_argument("--model", default="local",
                   help="'local' (the embedded model, default) or a litellm model id; its key from the "
                        "environment, as in a notebook")
    p.add_argument("--api-base", help="base URL of an OpenAI-compatible server for --model")
    p.add_argument("--report", type=Path, help="also write the printed tables to this Markdown file")


def runners(args: Any, run_ours: Callable[[Ours, Any], Outcome],
            run_smolagents: Callable[[Smolagents, Any], Outcome]) -> dict[str, Callable[[Any], Outcome]]:
    """The harnesses ``--harness`` names, each as a function of one task, on one endpoint."""
    chosen: dict[str, Callable[[Any], Outcome]] = {}
    model_id, api_base, api_key = endpoint(args.model, args.api_base)
    for h in args.harness.split(","):
        if h == "ours":
            ours = Ours(model=args.model, api_base=args.api_base, max_steps=args.max_steps,
                        tactics=args.tactics)
            chosen[h] = lambda task, ours=ours: run_ours(ours, task)
        elif h == "smolagents":
            smol = Smolagents(model_id, api_base, api_key, max_steps=args.max_steps)
            chosen[h] = lambda task, smol=smol: run_smolagents(smol, task)
        else:
            raise SystemExit(f"unknown harness {h!r}: ours, smolagents, or ours,smolagents")
    return chosen


def endpoint(model: str, api_base: str | None) -> tuple[str, str | None, str | None]:
    """litellm id, api base and key of the model both harnesses talk to (the embedded model's
    server is started if needed)."""
    if model == "local":
        return local_endpoint()
    return model, api_base, None


def model_label(model: str) -> str:
    return "embedded model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M)" if model == "local" else model


def emit(text: str, report: Path | None) -> None:
    print(text)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text.lstrip("\n") + "\n")


def local_endpoint() -> tuple[str, str, str]:
    """The embedded model's server (started if needed): litellm id, api base, key."""
    from codeact_magic.local.server import ALIAS, ensure_running

    state = ensure_running(lambda text: print(text, file=sys.stderr))
    return f"openai/{ALIAS}", state.api_base, state.api_key


# ---- tables ----

def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (it reads in a terminal and pastes into a note)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def task_table(results: Results, harnesses: list[str], names: list[str], first: str,
               count: str = "calls", solved_word: str = "solved") -> str:
    """A row per task (each harness: solved, computed, ``count``, prompt tokens, seconds) and a
    totals row. ``count``: the Outcome field of the third column ("calls" or "steps")."""
    rows = []
    for name in names:
        row = [name]
        for h in harnesses:
            [o] = results.of(h, [name]) or [None]
            row += ["-"] * 5 if o is None else [
                solved_word if o.score["solved"] else "-", "yes" if o.from_code else "-",
                getattr(o, count), o.prompt_tokens, o.seconds]
        rows.append(row)
    totals = ["total"]
    for h in harnesses:
        os_ = results.of(h, names)
        solved_ = [o for o in os_ if o.score["solved"]]
        totals += [f"{len(solved_)}/{len(os_)}", f"{sum(o.from_code for o in solved_)}/{len(solved_)}",
                   sum(getattr(o, count) for o in os_), sum(o.prompt_tokens for o in os_),
                   sum(o.seconds for o in os_)]
    rows.append(totals)
    return table([first] + [f"{h} {c}" for h in harnesses for c in ("", "computed", count, "prompt tok", "s")],
                 rows)


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


# What the model's code runs on in the kernel, and what runs the embedded model: a figure from a
# run is only comparable with another made on the same versions (pandas 3 changed what the small
# model's pandas-2 code does: str.replace's regex, string columns, in-place warnings).
VERSIONED = ("pandas", "numpy", "scipy", "scikit-learn", "llama-cpp-python", "smolagents")


def environment_line() -> str:
    """The versions this report was made with (Python, and each of VERSIONED installed)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = [f"Python {platform.python_version()}"]
    for name in VERSIONED:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return "Made with " + ", ".join(found) + "."


def follow_ups_line(outcomes: list[Outcome]) -> str:
    """Which of the loop's follow-ups the runs needed, and how many of those runs were solved: a
    tactic's share of the result, read from the same run."""
    kinds: dict[str, list[Outcome]] = {}
    for o in outcomes:
        for kind in dict.fromkeys(o.follow_ups):
            kinds.setdefault(kind, []).append(o)
    if not kinds:
        return ""
    return "What the loop sent back (runs, of them solved): " + ", ".join(
        f"{k} {len(v)} ({sum(bool(o.score.get('solved')) for o in v)})" for k, v in sorted(kinds.items()))


def run_all(tasks: list[Any], harnesses: dict[str, Callable[[Any], Outcome]], results: Results,
            name_of: Callable[[Any], str], show: bool = False) -> None:
    """Each harness over every task not yet in ``results``, one harness after the other (each keeps
    the server's prompt-prefix cache between its own calls)."""
    for harness, run in harnesses.items():
        for i, task in enumerate(tasks, 1):
            key = name_of(task)
            if (harness, key) in results.done:
                continue
            outcome = run(task)
            results.add(outcome)
            if show:
                mark = "OK" if outcome.score.get("solved") else "--"
                print(f"[{harness} {i}/{len(tasks)}] {mark} {key}: {outcome.steps} steps, "
                      f"{outcome.seconds:.1f} s, {str(outcome.answer)[:120]!r}", file=sys.stderr,
                      flush=True)
