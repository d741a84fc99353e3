"""Harness overhead per step: a 20-step scripted session through our loop and through smolagents'
CodeAgent, against the same scripted OpenAI-compatible server, in the same run.

The server answers at once, and each step's code is trivial, so the time per step is the harness:
building the prompt, the HTTP round trip through litellm, parsing, running, observing.

    python benchmarks/step_overhead.py [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from scripted_server import Reply, ScriptedServer  # noqa: E402


def scripted_session(steps: int, final_as_code: bool):
    """A model that runs `steps` small steps, then answers (smolagents answers by calling final_answer)."""

    def reply(body: dict) -> Reply:
        # Count the steps taken so far from the conversation: one assistant message per step.
        done = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if done < steps:
            return Reply(f"Step {done + 1}.\n```python\nvalue_{done} = {done} * 2\nprint(value_{done})\n```")
        if final_as_code:
            return Reply(f"Done.\n```python\nfinal_answer({2 * (steps - 1)})\n```")
        return Reply(f"The last value is {2 * (steps - 1)}.")

    return reply


class TimedModel:
    """Our model, with the time spent in its calls (streaming included) added up."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    async def stream(self, messages, **options):
        started = time.perf_counter()
        try:
            async for chunk in self.inner.stream(messages, **options):
                self.seconds += time.perf_counter() - started
                yield chunk
                started = time.perf_counter()
        finally:
            self.seconds += time.perf_counter() - started

    def usage_of(self, messages, text):
        return self.inner.usage_of(messages, text)


_shell = None


def bench_codeact(server: ScriptedServer, steps: int) -> tuple[float, int, int]:
    global _shell
    from IPython.testing.globalipapp import start_ipython

    import codeact_magic

    if _shell is None:
        _shell = start_ipython()
        _shell.run_line_magic("load_ext", "codeact_magic")
    ip = _shell

    server.reset()
    server.default = scripted_session(steps, final_as_code=False)
    model = TimedModel(codeact_magic.LiteLLM("openai/scripted", api_base=server.url))
    ip.user_ns["_bench_model"] = model
    started = time.perf_counter()
    result = ip.run_cell(
        # The loop's mechanics, as in 0.1: no tactic adds model calls to the scripted session.
        f"import codeact_magic\n_r = await codeact_magic.arun('go', model=_bench_model, "
        f"max_steps={steps + 1}, display=False, tactics='none')"
    )
    elapsed = time.perf_counter() - started
    assert result.success, result.error_in_exec
    run = codeact_magic.last_run()
    assert run.status == "answered" and len(run.steps) == steps, (run.status, run.note, len(run.steps))
    bodies = list(server.requests)
    return elapsed, len(bodies), sum(_prompt_chars(b) for b in bodies), model.seconds


def bench_smolagents(server: ScriptedServer, steps: int) -> tuple[float, int, int]:
    from smolagents import CodeAgent, LiteLLMModel

    logging.getLogger("smolagents").setLevel(logging.ERROR)
    server.reset()
    server.default = scripted_session(steps, final_as_code=True)
    model = LiteLLMModel(model_id="openai/scripted", api_base=server.url, api_key="no-key",
                         flatten_messages_as_text=True, max_tokens=256)
    seconds = 0.0
    generate = model.generate

    def timed_generate(*args, **kwargs):
        nonlocal seconds
        started = time.perf_counter()
        try:
            return generate(*args, **kwargs)
        finally:
            seconds += time.perf_counter() - started

    model.generate = timed_generate
    agent = CodeAgent(tools=[], model=model, max_steps=steps + 2, verbosity_level=0,
                      code_block_tags="markdown")
    started = time.perf_counter()
    answer = agent.run("go")
    elapsed = time.perf_counter() - started
    assert str(answer) == str(2 * (steps - 1)), answer
    bodies = list(server.requests)
    return elapsed, len(bodies), sum(_prompt_chars(b) for b in bodies), seconds


def _prompt_chars(body: dict) -> int:
    return sum(len(str(m.get("content", ""))) for m in body["messages"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = ScriptedServer().start()
    # Warm both up once (imports, litellm's first request), then measure. Steps print to devnull.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        bench_codeact(server, 2)
        bench_smolagents(server, 2)
    ours, theirs = [], []
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        for _ in range(args.repeats):
            ours.append(bench_codeact(server, args.steps))
            theirs.append(bench_smolagents(server, args.steps))
    server.stop()

    def row(name: str, samples) -> tuple[float, float, str]:
        wall = statistics.median(s[0] for s in samples)
        model = statistics.median(s[3] for s in samples)
        calls, chars = samples[0][1], samples[0][2]
        per_step = wall / args.steps * 1000
        own = (wall - model) / args.steps * 1000
        return per_step, own, (f"{name:<22} {wall:>8.2f} {per_step:>10.1f} {model / calls * 1000:>11.1f} "
                               f"{own:>12.1f} {calls:>6} {chars:>13,}")

    a, a_own, line_a = row("codeact_magic", ours)
    b, b_own, line_b = row("smolagents CodeAgent", theirs)
    print(f"{args.steps}-step scripted session, median of {args.repeats}, same server, same process.")
    print("model/call: time inside the model calls (litellm, HTTP, streaming), measured in each "
          "harness; harness/step: all the rest (prompting, parsing, running, observing).")
    print(f"{'harness':<22} {'wall (s)':>8} {'ms / step':>10} {'model/call':>11} {'harness/step':>12} "
          f"{'calls':>6} {'prompt chars':>13}")
    print(f"{'-' * 22} {'-' * 8} {'-' * 10} {'-' * 11} {'-' * 12} {'-' * 6} {'-' * 13}")
    print(line_a)
    print(line_b)
    print(f"{'ratio (ours / theirs)':<22} {'':>8} {a / b:>10.2f} {'':>11} {a_own / b_own:>12.2f}")


if __name__ == "__main__":
    main()
