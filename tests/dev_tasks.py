"""The public dev task set: small tasks with deterministic answers, for real-model runs.

Each task may first set up state in the kernel (the agent works on the user's live variables).
A task is solved when the final answer contains one of its accepted answers (digits compared
without thousands separators). It is computed (not answered from memory) when the answer came from
code: a step printed it, or a step handed it to final_answer() as a value its code computed (not a
literal typed into the call).
"""

from __future__ import annotations

from codeact_magic.bench.harness import typed_literal  # noqa: F401  (one rule, shared)

import ast
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    request: str
    answers: tuple[str, ...]
    setup: str = ""


TASKS = (
    Task("sum-of-squares", "What is the sum of the squares of the integers from 1 to 100?", ("338350",)),
    Task("days-between", "How many days are there from 2023-03-15 to 2024-01-01?", ("292",)),
    Task("power", "What is 7 to the power of 23?", ("27368747340080916343",)),
    Task("primes", "How many prime numbers are there below 5000?", ("669",)),
    Task("fibonacci", "What is the 40th Fibonacci number, with F(1) = 1 and F(2) = 1?", ("102334155",)),
    Task("reverse-upper", "Reverse the string 'codeact magic' and convert it to upper case.",
         ("CIGAM TCAEDOC",)),
    Task("count-letter", "How many times does the letter 's' occur in 'mississippi massachusetts'?", ("8",)),
    Task("weekday", "On which day of the week was 1969-07-20?", ("Sunday",)),
    Task("gcd", "What is the greatest common divisor of 123456 and 7890?", ("6",)),
    Task("kernel-mean", "What is the mean of the list `values` defined in the kernel, rounded to 2 decimals?",
         ("15.83",), setup="values = [3, 8, 15, 4, 23, 42]"),
    Task("kernel-groupby",
         "`sales` in the kernel is a list of (city, amount) pairs. Which city has the largest total "
         "amount? Give the city and its total.",
         ("Rome",), setup="sales = [('Oslo', 10), ('Rome', 7), ('Oslo', 5), ('Rome', 11), ('Lima', 4)]"),
    Task("digit-sum", "What is the sum of the digits of 2 to the power of 100?", ("115",)),
)


def _normal(text: str) -> str:
    # 1,234,567 and 1 234 567 read as 1234567; markdown emphasis does not matter.
    text = re.sub(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)", "", text)
    return text.replace("*", "").replace("`", "").lower()


def solved(task: Task, answer: str | None) -> bool:
    if not answer:
        return False
    normal = _normal(answer)
    return any(_normal(a) in normal for a in task.answers)


def computed(task: Task, outputs: list[str], answer_code: str | None) -> bool:
    """The accepted answer came out of code: printed by a step, or passed to final_answer() by
    code that computed it (``answer_code``: that step's code, None for an answer in words)."""
    if answer_code is not None and not typed_literal(answer_code):
        return True
    return any(_normal(a) in _normal(o) for a in task.answers for o in outputs)
