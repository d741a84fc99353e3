"""Where the form_grammar tactic would change stored runs, without the model.

At temperature 0 a grammar only masks tokens: a reply it accepts is the very reply the model gives
without it. So the runs that tactic changes are those whose reply to the form's message the form's
grammar refuses (decided by llama.cpp's own engine, codeact_magic/bench/grammar.py); only they need
running again to measure it (the paired method in the README).

    python benchmarks/form_grammar_replay.py RUNS.jsonl [RUNS.jsonl ...]

Prints a line per such run and the ids, comma-separated, for ``--ids`` / ``--tasks``.
"""

from __future__ import annotations

import argparse
import json

from codeact_magic.answer_form import find
from codeact_magic.bench.grammar import accepts
from codeact_magic.form_grammar import form_grammar
from codeact_magic.prompts import FORM_TEMPLATE

# What every form message says, whatever its answer and form.
_FORM_MESSAGE = FORM_TEMPLATE.split("{answer}")[1].split("{form}")[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="JSONL files of benchmarks/dabench.py or m3tooleval.py --out")
    args = p.parse_args()
    told = changed = 0
    ids = []
    for path in args.runs:
        with open(path) as f:
            for line in f:
                run = json.loads(line)
                trajectory = run.get("trajectory") or []
                form = find(trajectory[1]["content"]) if len(trajectory) > 1 else None
                after = next((i + 1 for i, m in enumerate(trajectory)
                              if m["role"] == "user" and _FORM_MESSAGE in m["content"]), None)
                if form is None or after is None or after >= len(trajectory):
                    continue
                told += 1
                reply = trajectory[after]["content"]
                if not accepts(form_grammar(form), reply):
                    changed += 1
                    ids.append(str(run["task"]))
                    solved = "solved" if run.get("score", {}).get("solved") else "not solved"
                    print(f"{run['task']} ({solved}): {reply.strip()[-120:]!r}")
    print(f"\nReplies to the form's message: {told}; the grammar refuses {changed} (those runs change).")
    print("ids: " + ",".join(ids))


if __name__ == "__main__":
    main()
