"""Many kernels, one model endpoint (a class on a hub): N real kernels run a multi-step %%codeact
request at the same moment against one OpenAI-compatible server.

    python benchmarks/load.py                      # scripted server, N = 1, 5, 10
    python benchmarks/load.py --local 1,2,4        # also the embedded model's one server

The scripted server answers like a model that takes ``--delay`` seconds to start each reply and
streams it at ``--chunk-delay`` per chunk; each run takes three steps and answers with its own tag,
so a run that got another run's reply, or was cut short, shows. Per N: runs completed, errors, runs
that ended wrong (not their own answer, or not three steps), and p50/p95/max seconds per run,
beside one run alone (the ratio is what sharing the endpoint costs).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the scripted OpenAI-compatible server

STEPS = 3


@dataclass
class Outcome:
    seconds: float
    status: str
    answer: str | None
    steps: int
    own: bool  # the run ended with its own answer after its own steps


def scripted_reply(delay: float, chunk_delay: float):
    from scripted_server import Reply

    def reply(body: dict) -> Reply:
        messages = body["messages"]
        tag = re.search(r"job-\d+", next(m["content"] for m in messages if m["role"] == "user")).group(0)
        done = sum(m["role"] == "assistant" for m in messages)
        if done < STEPS:
            text = f"Step {done + 1}.\n```python\nprint('{tag} step {done + 1}')\n```"
        else:
            text = f"Done: {tag}."
        return Reply(text, delay=delay, chunk_delay=chunk_delay)

    return reply


def start_kernels(n: int, env: dict[str, str]) -> list:
    from jupyter_client.manager import KernelManager

    kernels = []
    for _ in range(n):
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=env)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        # The extension and litellm loaded beforehand (as the loop imports it: offline, with its
        # local price list): the figure is the runs', not the imports'.
        kc.execute_interactive("%load_ext codeact_magic\nimport codeact_magic.model\n"
                               "codeact_magic.model.import_litellm();", timeout=120)
        kernels.append((km, kc))
    return kernels


def stop_kernels(kernels: list) -> None:
    for km, kc in kernels:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_at_once(kernels: list, cell_of, expected_steps: int | None, answer_of) -> list[Outcome]:
    """Every kernel runs its cell at the same moment; each run's seconds, status and answer."""
    outcomes: list[Outcome | None] = [None] * len(kernels)
    start = threading.Barrier(len(kernels))

    def one(i: int) -> None:
        km, kc = kernels[i]
        start.wait()
        began = time.perf_counter()
        reply = kc.execute_interactive(cell_of(i), timeout=1800, output_hook=lambda msg: None)
        seconds = time.perf_counter() - began
        info: dict = {}

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                info["text"] = info.get("text", "") + msg["content"]["text"]

        kc.execute_interactive("r = codeact_magic.last_run()\nprint(repr((r.status, r.answer, len(r.steps))))",
                               timeout=60, output_hook=hook)
        import ast

        status, answer, steps = ast.literal_eval(info.get("text", "(None, None, 0)").strip())
        if reply["content"]["status"] != "ok":
            status = "error"
        own = status == "answered" and answer_of(i, answer) and (
            expected_steps is None or steps == expected_steps)
        outcomes[i] = Outcome(seconds, status or "error", answer, steps, bool(own))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(kernels))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [o for o in outcomes if o is not None]


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def row(label: str, n: int, outcomes: list[Outcome], alone: float | None) -> str:
    seconds = [o.seconds for o in outcomes]
    p50 = statistics.median(seconds)
    return (f"| {label} | {n} | {sum(o.status == 'answered' for o in outcomes)}/{n} | "
            f"{sum(o.status == 'error' for o in outcomes)} | {sum(not o.own for o in outcomes)} | "
            f"{p50:.1f} | {pct(seconds, 95):.1f} | {max(seconds):.1f} | "
            f"{(p50 / alone) if alone else 1.0:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernels", default="1,5,10", help="kernels at once, scripted server (comma list)")
    p.add_argument("--local", default="", help="kernels at once on the embedded model, e.g. 1,2,4")
    p.add_argument("--delay", type=float, default=0.8, help="seconds before each scripted reply starts")
    p.add_argument("--chunk-delay", type=float, default=0.02, help="seconds between its streamed chunks")
    args = p.parse_args()

    profile = Path(tempfile.mkdtemp(prefix="codeact-load-ipython-"))
    env = {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL", "PYTEST_CURRENT_TEST")}
    header = ("| endpoint | kernels at once | answered | errors | wrong or cut | p50 s/run | p95 s/run | "
              "max s/run | p50 / one alone |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    lines = [header]
    if args.kernels:
        from scripted_server import ScriptedServer

        server = ScriptedServer().start()
        server.default = scripted_reply(args.delay, args.chunk_delay)
        options = f"--model openai/scripted --api-base {server.url} --new"
        alone = None
        for n in (int(x) for x in args.kernels.split(",")):
            kernels = start_kernels(n, {**env, "IPYTHONDIR": str(profile)})
            try:
                outcomes = run_at_once(kernels, lambda i: f"%%codeact {options}\nRun three steps for job-{i}.",
                                       STEPS, lambda i, answer: answer is not None and f"job-{i}." in answer)
            finally:
                stop_kernels(kernels)
            alone = alone or statistics.median(o.seconds for o in outcomes)
            lines.append(row(f"scripted ({args.delay:g} s a reply)", n, outcomes, alone))
            print(lines[-1], flush=True)
        server.stop()
    if args.local:
        alone = None
        for n in (int(x) for x in args.local.split(",")):
            kernels = start_kernels(n, {**env, "IPYTHONDIR": str(profile)})
            try:
                questions = [(17 + i, 23 + i) for i in range(n)]
                outcomes = run_at_once(
                    kernels, lambda i: f"%%codeact --new\nWhat is {questions[i][0]} * {questions[i][1]}? Compute it.",
                    None, lambda i, answer: answer is not None and
                    str(questions[i][0] * questions[i][1]) in answer.replace(",", ""))
            finally:
                stop_kernels(kernels)
            alone = alone or statistics.median(o.seconds for o in outcomes)
            lines.append(row("embedded model (one server)", n, outcomes, alone))
            print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
