"""InfiAgent-DABench's dev set (156 data-analysis questions over CSV tables): our loop on the
embedded model, and smolagents' CodeAgent on the same server, in the same run.

    python benchmarks/dabench.py [--data ../shared/benchmarks/dabench-dev] [--harness ours,smolagents]
                                 [--limit N | --slice K [--offset I]] [--out runs/x.jsonl] [--tactics SPEC]

The data stays where it is: questions, labels and tables are read by path, never copied.
Scoring is the benchmark's own (its README): every ``@name[value]`` in the final answer; a
sub-answer is right when it equals the label as a string or both parse as floats within 1e-6; a
question is solved when all of its sub-answers are right. Printed: accuracy by question and by
sub-answer, per level, steps, tokens and seconds per question, beside the published figures.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .harness import (ROOT, Ours, Outcome, Results, Smolagents, add_common_options, emit, environment_line,
                      follow_ups_line, median, model_label, pct, run_all, runners, table)

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "dabench-dev"
# Accuracy by question on the full 257-question set, read from the paper's main plot (the README).
PUBLISHED = [("gpt-4-0613", 79.0), ("gpt-3.5-turbo-0613", 60.7), ("DAAgent-7B", 51.4),
             ("Mistral-7B-Instruct", 38.7), ("Qwen-7B-Chat", 27.0), ("CodeLlama-7B-Instruct", 24.6)]
LEVELS = ("easy", "medium", "hard")
_ANSWER = re.compile(r"@(\w+)\[(.*?)\]")
# What smolagents may import for these questions (the libraries the questions name).
IMPORTS = ["pandas", "pandas.*", "numpy", "numpy.*", "scipy", "scipy.*", "sklearn", "sklearn.*",
           "statistics", "math", "datetime", "collections", "re"]


@dataclass(frozen=True)
class Question:
    id: int
    question: str
    constraints: str
    format: str
    file: Path
    level: str
    labels: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return str(self.id)

    def request(self) -> str:
        """What a user would write in a %%codeact cell: the question, its constraints, the answer
        format, and where the data is."""
        return (f"{self.question}\n\nConstraints: {self.constraints}\n\n"
                f"Answer format: {self.format}\n\nThe data is in the CSV file \"{self.file}\".")


def load(data: Path) -> list[Question]:
    labels = {}
    for line in (data / "labels.jsonl").read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            labels[item["id"]] = tuple((n, str(v)) for n, v in item["common_answers"])
    questions = []
    for line in (data / "questions.jsonl").read_text().splitlines():
        if line.strip():
            q = json.loads(line)
            questions.append(Question(q["id"], q["question"], q["constraints"], q["format"],
                                      (data / "tables" / q["file_name"]).resolve(), q["level"],
                                      labels[q["id"]]))
    return questions


def _equal(given: str, label: str) -> bool:
    if given == label:
        return True
    try:
        return abs(float(given) - float(label)) < 1e-6
    except ValueError:
        return False


def score(question: Question, answer: str | None) -> dict:
    """The benchmark's rule: the last ``@name[value]`` of each name counts."""
    found = {name: value.strip() for name, value in _ANSWER.findall(answer or "")}
    right = [name for name, label in question.labels if name in found and _equal(found[name], label)]
    return {"solved": len(right) == len(question.labels), "right": len(right),
            "subanswers": len(question.labels), "formatted": bool(found)}


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def in_outputs(value: str, outputs: str) -> bool:
    """``value`` was printed by a step: as text, or as a number that rounds to it."""
    if value.lower() in outputs.lower():
        return True
    try:
        target = float(value)
    except ValueError:
        return False
    decimals = len(value.split(".")[1]) if "." in value else 0
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    return any(math.isclose(float(n), target, abs_tol=tolerance) for n in _NUMBER.findall(outputs))


def run_ours(ours: Ours, q: Question) -> Outcome:
    outcome, run = ours.run(q.key, q.request())
    outcome.score = score(q, outcome.answer)
    outputs = "\n".join(s.output for s in run.steps)
    if outcome.score["solved"] and not outcome.from_code:
        outcome.from_code = all(in_outputs(v, outputs) for _, v in q.labels)
    return outcome


def run_smolagents(smol: Smolagents, q: Question) -> Outcome:
    outcome, agent = smol.run(q.key, q.request(), imports=IMPORTS)
    outcome.score = score(q, outcome.answer)
    return outcome


def report(questions: list[Question], results: Results, harnesses: list[str]) -> str:
    out = []
    keys = [q.key for q in questions]
    by_key = {q.key: q for q in questions}
    rows = []
    for h in harnesses:
        outcomes = results.of(h, keys)
        for level in (*LEVELS, "all"):
            chosen = [o for o in outcomes if level == "all" or by_key[o.task].level == level]
            if not chosen:
                continue
            solved = [o for o in chosen if o.score["solved"]]
            rows.append([
                h, level, len(chosen), f"{len(solved)} ({pct(len(solved), len(chosen))})",
                pct(sum(o.score["right"] for o in chosen), sum(o.score["subanswers"] for o in chosen)),
                f"{sum(o.from_code for o in solved)}/{len(solved)}",
                pct(sum(o.score["formatted"] for o in chosen), len(chosen)),
                pct(sum(o.steps == 0 for o in chosen), len(chosen)),
                sum(o.steps for o in chosen) / len(chosen),
                round(sum(o.prompt_tokens for o in chosen) / len(chosen)),
                round(sum(o.completion_tokens for o in chosen) / len(chosen)),
                median([o.seconds for o in chosen]),
            ])
    out.append(table(["harness", "level", "questions", "solved", "sub-answers right",
                      "solved from code", "@name[] given", "no step", "steps/q", "prompt tok/q",
                      "completion tok/q", "median s/q"], rows))
    if len(harnesses) == 2:
        a, b = (results.of(h, keys) for h in harnesses)
        shared = {o.task for o in a} & {o.task for o in b}
        a = [o for o in a if o.task in shared]
        b = [o for o in b if o.task in shared]
        sa, sb = sum(o.score["solved"] for o in a), sum(o.score["solved"] for o in b)
        ta, tb = sum(o.prompt_tokens for o in a), sum(o.prompt_tokens for o in b)
        out.append(
            f"\nSame {len(shared)} questions, ratio {harnesses[0]}/{harnesses[1]}: solved "
            f"{sa}/{sb} = {sa / sb if sb else float('inf'):.2f}, prompt tokens {ta / max(1, tb):.2f}, "
            f"prompt tokens per solved {(ta / max(1, sa)) / max(1, tb / max(1, sb)):.2f}, "
            f"seconds {sum(o.seconds for o in a) / max(1e-9, sum(o.seconds for o in b)):.2f}")
    statuses = {}
    for h in harnesses:
        for o in results.of(h, keys):
            statuses.setdefault(h, {}).setdefault(o.status, 0)
            statuses[h][o.status] += 1
    out.append("\nHow runs ended: " + "; ".join(
        f"{h}: " + ", ".join(f"{k} {v}" for k, v in sorted(s.items())) for h, s in statuses.items()))
    if line := follow_ups_line(results.of("ours", keys)):
        out.append("\n" + line)
    out.append("\n" + environment_line())
    out.append("\nPublished (accuracy by question, full 257-question set): " +
               ", ".join(f"{m} {v:.1f} %" for m, v in PUBLISHED))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--harness", default="ours", help="ours, smolagents, or both: ours,smolagents")
    p.add_argument("--limit", type=int, help="the first N questions")
    p.add_argument("--slice", type=int, help="every K-th question (a spread-out sample)")
    p.add_argument("--offset", type=int, default=0,
                   help="with --slice, start at this question (--slice 2 --offset 1: the other half)")
    p.add_argument("--ids", help="comma-separated question ids")
    p.add_argument("--max-steps", type=int, default=10)
    p.add_argument("--tactics", help="our loop's tactics (codeact_magic.tactics), e.g. 'default,-check'")
    p.add_argument("--out", type=Path, help="JSONL of outcomes; an existing file is resumed")
    p.add_argument("--report-only", action="store_true", help="print the tables of --out and stop")
    p.add_argument("--show", action="store_true", help="a line per question as it ends")
    add_common_options(p)
    args = p.parse_args(argv)

    questions = load(args.data)
    if args.ids:
        wanted = {int(i) for i in args.ids.split(",")}
        questions = [q for q in questions if q.id in wanted]
    if args.slice:
        questions = questions[args.offset :: args.slice]
    if args.limit:
        questions = questions[: args.limit]
    harnesses = args.harness.split(",")
    results = Results(args.out)
    if not args.report_only:
        chosen = runners(args, run_ours, run_smolagents)
        run_all(questions, chosen, results, lambda q: q.key, show=args.show)
    emit(f"\nInfiAgent-DABench dev set: {len(questions)} questions, {model_label(args.model)}, "
         f"max {args.max_steps} steps" + (f", tactics {args.tactics}" if args.tactics else "") + "\n\n"
         + report(questions, results, harnesses), args.report)


if __name__ == "__main__":
    main()
