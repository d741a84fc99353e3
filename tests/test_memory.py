"""Runs in one kernel are one conversation (codeact_magic.memory): what a follow-up run is sent,
``--new``, ``%codeact history``, the budget, and a kernel restart."""

from __future__ import annotations

import pytest
from conftest import code, options

import codeact_magic
from codeact_magic.memory import Memory
from codeact_magic.run import Run, Step, StepError


def codeact(ip, server, request: str, extra: str = ""):
    result = ip.run_cell(f"%%codeact {options(server, extra)}\n{request}", store_history=True)
    assert result.success, result.error_in_exec
    return codeact_magic.last_run()


def sent(server, call: int) -> list[dict]:
    return server.requests[call]["messages"]


def test_a_follow_up_run_is_sent_the_earlier_request_code_outputs_and_answer(ip, model):
    model.reset(code("squares = [i * i for i in range(5)]\nprint(squares)"), "They are 0, 1, 4, 9 and 16.")
    codeact(ip, model, "make a list of the first five squares")
    model.reset(code("print(sum(squares))"), "Their sum is 30.")
    run = codeact(ip, model, "now add them up")
    first = sent(model, 0)
    said = [m["content"] for m in first]
    assert first[0]["role"] == "system" and [m["role"] for m in first[1:]] == [
        "user", "assistant", "user", "assistant", "user"]
    assert said[1].startswith("make a list of the first five squares")
    assert "squares = [i * i for i in range(5)]" in said[2]
    assert said[3] == "Execution result:\n[0, 1, 4, 9, 16]"
    assert said[4] == "They are 0, 1, 4, 9 and 16."
    assert said[5].startswith("now add them up")
    assert run.answer == "Their sum is 30."

    # --new: a fresh conversation, and what comes after goes on with that one.
    model.reset("Hello.")
    codeact(ip, model, "hi", "--new")
    assert [m["role"] for m in sent(model, 0)] == ["system", "user"]
    model.reset("Bye.")
    codeact(ip, model, "bye")
    assert sent(model, 0)[1]["content"].startswith("hi") and sent(model, 0)[2]["content"] == "Hello."


def test_an_answer_given_through_final_answer_is_remembered_as_its_value(ip, model):
    ip.run_line_magic("config", "CodeAct.tactics = 'none,+final_answer'")
    model.reset(code("final_answer(6 * 7)"))
    codeact(ip, model, "six times seven")
    model.reset("It was 42.")
    codeact(ip, model, "what did you find?")
    history = sent(model, 0)
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user"]
    assert history[2]["content"].endswith("final_answer(6 * 7)\n```\n[final_answer received: 42]")
    assert history[3]["content"].startswith("what did you find?")


def test_a_run_that_did_not_answer_is_remembered_with_why(ip, model):
    model.reset(code("1 / 0"), code("1 / 0  # again"), code("print('x')"))
    codeact(ip, model, "divide", "--max-steps 2")
    model.reset("It divided by zero.")
    codeact(ip, model, "why did that fail?")
    history = sent(model, 0)
    assert "ZeroDivisionError" in history[-3]["content"]
    assert history[-2] == {"role": "assistant", "content": "[the run stopped at its step limit: Stopped "
                           "after 2 steps (the limit) without a final answer; the last proposed code "
                           "was not run. Raise --max-steps to let it go on.]"}
    assert history[-1]["content"].startswith("why did that fail?")


def test_history_says_what_the_next_run_carries(ip, model, capsys):
    ip.run_line_magic("codeact", "history")
    assert "starts a new conversation" in capsys.readouterr().out
    model.reset(code("print(2 + 2)"), "Four.")
    codeact(ip, model, "two plus two")
    capsys.readouterr()
    ip.run_line_magic("codeact", "history")
    out = capsys.readouterr().out
    assert "carries 1 earlier run" in out and "1. [whole] two plus two → Four." in out
    ip.run_line_magic("config", "CodeAct.memory_chars = 0")
    model.reset("Hi.")
    codeact(ip, model, "hello")
    assert [m["role"] for m in sent(model, 0)] == ["system", "user"]  # memory off
    ip.run_line_magic("codeact", "history")
    assert "memory_chars is 0" in capsys.readouterr().out


def test_long_sessions_stay_within_the_budget_oldest_told_in_short_first(ip, model):
    ip.run_line_magic("config", "CodeAct.memory_chars = 6000")
    sizes = []
    for i in range(5):
        model.reset(code(f"table_{i} = 'row ' * 300\nprint(table_{i})"), f"Table {i} is made.")
        codeact(ip, model, f"make table {i}")
        request = sent(model, 0)
        sizes.append(sum(len(m["content"]) for m in request[1:-1]))  # what earlier runs take
    assert sizes[0] == 0 and max(sizes) <= 6000
    last = [m["content"] for m in sent(model, 0)]
    # The oldest runs come in short: their request, the code that worked and the answer, no output.
    assert last[1].startswith("make table 0") and "row row row" not in last[2]
    assert "table_0 = 'row ' * 300" in last[2] and last[2].endswith("Answer: Table 0 is made.")
    assert any("row row row" in m for m in last[-6:])  # the latest run in whole


def _run(i: int, output_chars: int = 800, answer: str | None = None) -> Run:
    run = Run(request=f"request {i}", model="m", status="answered", answer=answer or f"answer {i}")
    run.steps = [Step(code=f"x{i} = {i}\nprint('o' * {output_chars})", output="o" * output_chars)]
    run.messages = [{"role": "system", "content": "sys"},
                    {"role": "user", "content": f"request {i}"},
                    {"role": "assistant", "content": f"```python\nx{i} = {i}\n```"},
                    {"role": "user", "content": "o" * output_chars},
                    {"role": "assistant", "content": run.answer}]
    return run


def test_what_is_sent_changes_only_where_the_budget_made_it_change():
    # The server's prompt cache reuses the longest unchanged prefix: most runs' history starts with
    # the whole history the run before sent; compacting or leaving out, which changes it, happens
    # in batches, not at every run.
    memory, budget, previous = Memory(), 5000, []
    reused = 0
    for i in range(30):
        memory.remember(_run(i))
        history = memory.history(budget)
        assert sum(len(m["content"]) for m in history) <= budget
        reused += history[:len(previous)] == previous
        previous = history
    assert reused >= 20, reused
    assert "earlier requests of this conversation left out" in previous[0]["content"]


def test_a_failed_step_is_not_in_the_short_form():
    run = _run(1)
    run.steps.insert(0, Step(code="bad()", output="NameError", error=StepError("NameError", "bad")))
    memory = Memory()
    memory.remember(run)
    memory.remember(_run(2, output_chars=5000))
    short = memory.history(5400)[1]["content"]
    assert "bad()" not in short and "x1 = 1" in short and "2 steps ran" in short


@pytest.mark.kernel
def test_restarting_the_kernel_forgets_the_conversation(kernel, model):
    model.reset(code("print(1)"), "One.")
    kernel.execute(f"%%codeact {options(model)} --new\nfirst request")
    model.reset("Two.")
    kernel.execute(f"%%codeact {options(model)}\nsecond request")
    assert "first request" in sent(model, 0)[1]["content"]
    kernel.km.restart_kernel(now=True)
    kernel.kc.wait_for_ready(timeout=60)
    assert kernel.execute("%load_ext codeact_magic\nimport codeact_magic")[0]["status"] == "ok"
    model.reset("Three.")
    kernel.execute(f"%%codeact {options(model)}\nthird request")
    assert [m["role"] for m in sent(model, 0)] == ["system", "user"]


def test_a_window_set_for_a_self_hosted_model_keeps_each_call_within_it(ip, model):
    # litellm knows no window for "openai/scripted": CodeAct.context_tokens gives it one.
    ip.run_line_magic("config", "CodeAct.context_tokens = 4000")
    ip.run_line_magic("config", "CodeAct.max_tokens = 1000")
    model.reset(*(code(f"print('{i}' * 2500)") for i in range(5)), "Done.")
    codeact(ip, model, "print a lot")
    sizes = [sum(len(m["content"]) for m in r["messages"]) for r in model.requests]
    assert max(sizes) <= 3000 * 3 + 2500  # the window less the reply, and at most one step over
    assert "elided to fit the context window" in model.requests[-1]["messages"][3]["content"]
