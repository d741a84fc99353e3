"""A long notebook session: 5 follow-up requests of 6 steps each (30 steps), every step printing
about 3,000 characters. What each model call carries, ours beside smolagents (whose agent, run on
with ``reset=False``, replays its whole memory), on the same scripted server in the same run.

    python benchmarks/long_session.py [--window 8192]

Ours runs with ``CodeAct.context_tokens`` set to the window (the embedded model's is 8,192): the
kernel's conversation is carried within ``CodeAct.memory_chars`` and a run's own steps within the
window. The table: calls, prompt tokens per call (mean, max, at the last call), calls over the
window, and the growth from the first request's calls to the last's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the scripted OpenAI-compatible server
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

RUNS, STEPS = 5, 6
OUTPUT = 'print("\\n".join(f"row {i}: " + "v" * 60 for i in range(45)))'  # about 3,000 characters


def reply_for(body: dict):
    """Six steps, then an answer, for whichever harness asks (told apart by its code tags)."""
    from scripted_server import Reply

    messages = body["messages"]
    text = lambda m: m["content"] if isinstance(m["content"], str) else " ".join(  # noqa: E731
        p.get("text", "") for p in m["content"])
    smol = "<code>" in text(messages[0])
    # Where the current request starts: smolagents says "New task:", ours puts the request first.
    starts = [i for i, m in enumerate(messages) if m["role"] == "user" and (
        "New task:" in text(m) if smol else text(m).startswith("Request "))]
    run_at = starts[-1] if starts else 0
    done = sum(m["role"] == "assistant" for m in messages[run_at:])
    number = text(messages[run_at]).rsplit("Request ", 1)[-1].split(":", 1)[0].strip() if starts else "?"
    if done < STEPS:
        code = f"part_{number}_{done} = {done}\n{OUTPUT}"
        return Reply(f"Thought: step {done + 1}.\n<code>\n{code}\n</code>" if smol else
                     f"Step {done + 1}.\n```python\n{code}\n```")
    answer = f"Request {number} is done."
    return Reply(f"Thought: done.\n<code>\nfinal_answer({answer!r})\n</code>" if smol else answer)


def prompt_tokens(body: dict) -> int:
    """Characters sent, over four (the scripted server's own count)."""
    total = 0
    for m in body["messages"]:
        content = m["content"]
        total += len(content) if isinstance(content, str) else sum(len(p.get("text", "")) for p in content)
    return total // 4


def ours(url: str, window: int) -> None:
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    ip.run_line_magic("load_ext", "codeact_magic")
    ip.run_line_magic("config", f"CodeAct.context_tokens = {window}")
    ip.run_line_magic("config", "CodeAct.max_tokens = 1024")
    import codeact_magic

    for r in range(1, RUNS + 1):
        run = asyncio.run(codeact_magic.arun(f"Request {r}: work on part {r} of the table.",
                                             model="openai/scripted", api_base=url, display=False,
                                             max_steps=STEPS + 2, new=r == 1))
        assert run.status == "answered", (run.status, run.note)


def smolagents(url: str) -> None:
    import logging

    from smolagents import CodeAgent, LiteLLMModel

    logging.getLogger("smolagents").setLevel(logging.ERROR)
    model = LiteLLMModel(model_id="openai/scripted", api_base=url, api_key="none",
                         flatten_messages_as_text=True, max_tokens=1024, temperature=0)
    agent = CodeAgent(tools=[], model=model, max_steps=STEPS + 2, verbosity_level=0)
    for r in range(1, RUNS + 1):
        agent.run(f"Request {r}: work on part {r} of the table.", reset=r == 1)


def row(name: str, calls: list[int], window: int) -> list:
    per_run = len(calls) // RUNS
    first, last = calls[:per_run], calls[-per_run:]
    return [name, len(calls), round(statistics.mean(calls)), max(calls), calls[-1],
            sum(c > window for c in calls), f"{statistics.mean(last) / statistics.mean(first):.1f}×",
            sum(calls)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--window", type=int, default=8192, help="the model's input window, tokens")
    args = p.parse_args()
    from scripted_server import ScriptedServer

    from codeact_magic.bench.harness import table

    server = ScriptedServer().start()
    server.default = reply_for
    rows = []
    for name, go in (("ours", lambda: ours(server.url, args.window)), ("smolagents", lambda: smolagents(server.url))):
        server.requests = []
        go()
        rows.append(row(name, [prompt_tokens(b) for b in server.requests], args.window - 1024))
    server.stop()
    print(f"{RUNS} follow-up requests × {STEPS} steps, each step printing ~3,000 characters; window "
          f"{args.window:,} tokens less a 1,024-token reply\n")
    print(table(["harness", "calls", "prompt tok/call", "max", "last call", "calls over the window",
                 "last request / first (mean per call)", "prompt tokens, all calls"], rows))
    ratio = rows[0][-1] / rows[1][-1]
    print(f"\nRatio ours/smolagents, prompt tokens of the whole session: {ratio:.2f}")


if __name__ == "__main__":
    main()
