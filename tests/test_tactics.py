"""Each tactic of the loop (codeact_magic.tactics), and replies that end early, through the scripted
model server and the in-process shell: what the model is sent back, and what the user gets."""

from __future__ import annotations

import math

import pytest
from conftest import MODEL, Reply, code, options

import codeact_magic


def codeact(ip, server, request: str, tactics: str, extra: str = ""):
    ip.run_line_magic("config", f"CodeAct.tactics = {tactics!r}")
    result = ip.run_cell(f"%%codeact {options(server, extra)}\n{request}", store_history=True)
    assert result.success, result.error_in_exec
    return codeact_magic.last_run()


def sent(server, call: int) -> list[dict]:
    return server.requests[call]["messages"]


# ---- nudge ----

def test_a_first_reply_without_code_is_sent_back_once(ip, model, capsys):
    model.reset("It is 3.", code("import math\nprint(math.gcd(462, 1071))"), "It is **21**.")
    run = codeact(ip, model, "gcd of 462 and 1071?", "none,+nudge")
    assert run.status == "answered" and run.answer == "It is **21**." and len(run.steps) == 1
    nudge = sent(model, 1)
    assert nudge[-2] == {"role": "assistant", "content": "It is 3."}
    assert nudge[-1]["content"].startswith("You answered without running any code.")
    assert "gcd of 462 and 1071?" in nudge[-1]["content"]  # the request, not the prompt's example
    assert "asked to compute it" in capsys.readouterr().out  # the user sees what happened


def test_a_question_that_needs_no_code_costs_one_more_short_call_at_most(ip, model):
    model.reset("Hello! How can I help?", "Hello! How can I help?")
    run = codeact(ip, model, "hi", "none,+nudge")
    assert run.status == "answered" and run.answer == "Hello! How can I help?" and run.steps == []
    assert len(model.requests) == 2


def test_an_explanation_without_figures_is_not_sent_back(ip, model):
    explanation = ("A list is mutable: its items can be changed, added and removed after it is made. "
                   "A tuple is immutable: once made, it stays as it is, so it can be a dictionary key "
                   "and it signals data that should not change. Both keep order and allow repeats.")
    model.reset(explanation)
    run = codeact(ip, model, "list vs tuple?", "none,+nudge")
    assert run.answer == explanation and len(model.requests) == 1


# ---- final_answer() ----

def test_final_answer_in_code_ends_the_run_with_the_computed_value(ip, model):
    ip.user_ns["final_answer"] = "the user's own"
    model.reset(code("total = sum(x * x for x in range(1, 101))\nfinal_answer(total)"), "never asked")
    run = codeact(ip, model, "sum of squares to 100", "none,+final_answer")
    assert run.status == "answered" and run.answer == "338350" and run.answer_step == 1
    assert len(model.requests) == 1
    assert ip.user_ns["final_answer"] == "the user's own"  # the user's name is back
    assert "final_answer(answer)" in sent(model, 0)[0]["content"]  # the system prompt says how


def test_final_answer_leaves_no_trace_in_the_namespace(ip, model):
    ip.user_ns.pop("final_answer", None)
    model.reset(code("final_answer('done')"))
    run = codeact(ip, model, "finish", "none,+final_answer")
    assert run.answer == "done" and "final_answer" not in ip.user_ns


def test_several_different_final_answers_in_one_step_are_none_taken(ip, model):
    model.reset(code("dna = 'AGCT'\nfinal_answer(f'DNA: {dna}')\nfinal_answer(f'DNA: {dna}')\n"
                     "final_answer(len(dna))"), code("final_answer(len(dna))"))
    run = codeact(ip, model, "length of AGCT", "none,+final_answer,+one_answer")
    assert run.answer == "4" and run.answer_step == 2 and run.follow_ups == ["answers"]
    assert sent(model, 1)[-1]["content"].endswith(
        "final_answer() was given 2 different values in this step: 'DNA: AGCT', '4'. None of them was "
        "taken. Call it once, with the one answer the request asks for (all of its parts in that one "
        "call).")
    # The same value twice is one answer; without the tactic the last value is taken.
    model.reset(code("final_answer(4)\nfinal_answer(4)"))
    assert codeact(ip, model, "four", "none,+final_answer,+one_answer").answer == "4"
    model.reset(code("final_answer('DNA')\nfinal_answer(4)"))
    assert codeact(ip, model, "four", "none,+final_answer").answer == "4"


def test_the_parts_of_a_form_handed_over_one_call_each_are_the_one_answer(ip, model):
    request = "Test it. Answer format: @p_value[p] @significant[Yes/No]"
    one_call_each = code("p = 0.01\nfinal_answer(f'@p_value[{p}]')\nfinal_answer('@significant[Yes]')")
    model.reset(one_call_each)
    run = codeact(ip, model, request, "none,+final_answer,+answer_form,+join_parts")
    assert run.answer == "@p_value[0.01]\n@significant[Yes]" and run.follow_ups == ["joined"]
    # Without it, the last call's part is the answer and the first part is lost.
    model.reset(one_call_each)
    assert codeact(ip, model, request, "none,+final_answer").answer == "@significant[Yes]"
    # Two values for the same part are candidates: joined they would not be one answer. Without
    # one_answer the last is taken; with it, the model is to choose.
    candidates = code("final_answer('@p_value[0.01]')\nfinal_answer('@p_value[0.02]')")
    model.reset(candidates)
    run = codeact(ip, model, "Test it. Answer format: @p_value[p]", "none,+final_answer,+answer_form,+join_parts")
    assert run.answer == "@p_value[0.02]" and run.follow_ups == []
    model.reset(candidates, code("final_answer('@p_value[0.01] @significant[Yes]')"))
    run = codeact(ip, model, request, "none,+final_answer,+answer_form,+join_parts,+one_answer")
    assert run.answer == "@p_value[0.01] @significant[Yes]" and run.follow_ups == ["answers"]


def test_final_answer_of_a_step_that_then_fails_is_not_taken(ip, model):
    model.reset(code("final_answer(1)\n1 / 0"), code("final_answer(2)"))
    run = codeact(ip, model, "divide", "none,+final_answer")
    assert run.answer == "2" and run.answer_step == 2
    feedback = sent(model, 1)[-1]["content"]
    assert "ZeroDivisionError" in feedback and "that answer was not taken" in feedback


def test_without_the_tactic_final_answer_is_not_offered(ip, model):
    ip.user_ns.pop("final_answer", None)
    model.reset(code("final_answer(1)"), "Could not.")
    run = codeact(ip, model, "try", "none")
    assert run.steps[0].error.ename == "NameError" and run.answer == "Could not."


# ---- restate and check, before the answer ----

def test_the_request_is_restated_before_an_answer_in_words(ip, model):
    model.reset(code("print(570.6845)"), "The mean is 570.68.", "@mean[570.68]")
    run = codeact(ip, model, "Mean of the prices. Format: @mean[value]", "none,+restate")
    assert run.answer == "@mean[570.68]" and len(model.requests) == 3
    review = sent(model, 2)[-1]["content"]
    assert review.startswith("Before your answer is final, read the request again:")
    assert "Mean of the prices. Format: @mean[value]" in review and "exactly in the form" in review
    assert sent(model, 2)[-2]["content"] == "The mean is 570.68."  # its own answer, just above


def test_the_request_is_restated_before_a_final_answer_from_code(ip, model):
    model.reset(code("m = 570.6845\nfinal_answer(m)"), code("final_answer(f'@mean[{m:.2f}]')"))
    run = codeact(ip, model, "Mean. Format: @mean[value]", "none,+final_answer,+restate")
    assert run.answer == "@mean[570.68]" and run.answer_step == 2
    review = sent(model, 1)[-1]["content"]
    # The step's result is the answer it handed over (not "no output"), then the request again.
    assert review.startswith("Execution result:\nfinal_answer received: 570.6845\n\nBefore your answer")
    assert "If 570.6845 is exactly what the request asks for" in review
    assert "send the same final_answer call again" in review


def test_a_value_from_code_is_not_reviewed_when_the_request_states_no_form(ip, model):
    # Without restate_formless: nothing to hold the value against, so it is the answer at once.
    model.reset(code("final_answer(sum(i * i for i in range(101)))"), "never asked")
    run = codeact(ip, model, "Sum of the squares of 1 to 100?", "none,+final_answer,+restate,-restate_formless")
    assert run.answer == "338350" and len(model.requests) == 1 and run.follow_ups == []
    # A request that states a form still has it restated; so does an answer in words.
    model.reset(code("final_answer(5)"), code("final_answer('@n[5]')"))
    run = codeact(ip, model, "How many? Format: @n[value]", "none,+final_answer,+restate,-restate_formless")
    assert run.answer == "@n[5]" and run.follow_ups == ["review"]
    model.reset(code("print(5)"), "Five.", "Five.")
    run = codeact(ip, model, "How many?", "none,+final_answer,+restate,-restate_formless")
    assert run.follow_ups == ["review"] and len(model.requests) == 3
    # With it, the value of a formless request is reviewed too.
    model.reset(code("final_answer(5)"), code("final_answer(5)"))
    run = codeact(ip, model, "How many?", "none,+final_answer,+restate,+restate_formless")
    assert run.answer == "5" and run.follow_ups == ["review"] and len(model.requests) == 2


def test_an_answer_that_left_out_a_number_of_the_request_is_sent_back_with_its_words(ip, model):
    request = "Trade 100 units at 50 credits a unit, rate 1.5. Total in local currency?\nFormat: @total[value]"
    model.reset(code("print(50 * 1.5)"), "@total[75.0]", code("print(100 * 50 * 1.5)"), "@total[7500.0]",
                "@total[7500.0]")
    run = codeact(ip, model, request, "none,+final_answer,+restate,+unused_numbers")
    assert run.answer == "@total[7500.0]" and len(run.steps) == 2
    # In place of the review, before it: the number, what the request says of it, and no "answer now".
    told = sent(model, 2)[-1]["content"]
    assert told == ('Your code never used 100, which the request gives: "Trade 100 units at 50 credits". '
                    "Do not answer yet: send code that uses it as the request says and prints the result.")
    assert run.follow_ups == ["unused", "review"]
    # A value handed to final_answer() is held the same way; the same call again confirms it.
    model.reset(code("final_answer(f'@total[{50 * 1.5}]')"), code("final_answer(f'@total[{50 * 1.5}]')"))
    run = codeact(ip, model, request, "none,+final_answer,+restate,+unused_numbers", "--new")
    told = sent(model, 1)[-1]["content"]
    assert told.startswith("Execution result:\nfinal_answer received: @total[75.0]\n\nYour code never used 100")
    assert run.answer == "@total[75.0]" and run.follow_ups == ["unused"] and len(model.requests) == 2
    # Without the tactic the review alone.
    model.reset(code("final_answer(f'@total[{50 * 1.5}]')"), code("final_answer(f'@total[{50 * 1.5}]')"))
    run = codeact(ip, model, request, "none,+final_answer,+restate", "--new")
    assert "never used" not in sent(model, 1)[-1]["content"] and run.follow_ups == ["review"]


def test_a_confirmation_that_copies_the_observation_gives_the_answer_itself(ip, model):
    model.reset(code("final_answer('@mean[5.00]')"), "final_answer received: @mean[5.00]")
    run = codeact(ip, model, "Mean. Format: @mean[value]", "none,+final_answer,+restate")
    assert run.status == "answered" and run.answer == "@mean[5.00]"


def test_an_answer_of_nothing_is_sent_back_to_find_the_result(ip, model):
    model.reset(code("found = None\nfinal_answer(found)"), code("print([3, 5])"),
                code("final_answer(5)"))
    run = codeact(ip, model, "Which one is five?", "none,+final_answer,+restate")
    assert run.answer == "5" and run.answer_step == 3
    review = sent(model, 1)[-1]["content"]
    assert "None is no answer: your code has not found the result yet." in review
    assert "send the same final_answer call again" not in review


def test_an_answer_of_nothing_is_sent_back_before_the_answer_form(ip, model):
    # A lookup that found nothing, in a request with a form: told that None is no answer, not shown
    # the None put in the form (which the model then gave back as its answer).
    model.reset(code("price = None\nfinal_answer(price)"), code("price = 12.5\nprint(price)"),
                code("final_answer(f'@price[{price}]')"), "never asked")
    run = codeact(ip, model, "What is the price? Answer format: @price[value]", "default")
    told = sent(model, 1)[-1]["content"]
    assert "None is no answer: your code has not found the result yet." in told
    assert "not in the form" not in told and "@price[None]" not in told
    assert run.answer == "@price[12.5]" and run.answer_step == 3 and len(model.requests) == 3
    assert run.follow_ups == ["review", "nothing"]
    # An empty list may be the answer asked for ("no outliers"): the form's message, as for any value.
    model.reset(code("final_answer([])"), code("final_answer('@outliers[]')"), "never asked")
    run = codeact(ip, model, "Which fares are outliers? Answer format: @outliers[list]", "default")
    assert "not in the form" in sent(model, 1)[-1]["content"]
    assert run.answer == "@outliers[]" and run.follow_ups == ["form"]


def test_no_value_again_after_being_told_ends_the_run_without_an_answer(ip, model):
    # M3ToolEval's web runs: told None is no answer, then shown the form, the small model typed
    # final_answer("None"), and the run ended "answered" with it.
    model.reset(code("price = None\nfinal_answer(price)"), code("final_answer(price)"),
                code('final_answer("None")'), "never asked")
    run = codeact(ip, model, "What is the price? Answer format: @price[value]", "default")
    assert run.follow_ups == ["review", "nothing", "form"] and len(model.requests) == 3
    assert run.status == "stopped" and run.answer is None and run.answer_step is None
    assert run.note.startswith("Stopped: the model's code found no value for the answer")
    # Not told (no review), a None is what the code handed over: the answer, as before.
    model.reset(code("final_answer(None)"), "never asked")
    run = codeact(ip, model, "What is the price?", "none,+final_answer", "--new")
    assert run.status == "answered" and run.answer == "None"


def test_parts_of_an_answer_that_hold_no_value_are_sent_back_once(ip, model, capsys):
    # DABench: the p-value of a column with missing values came out NaN, and the answer gave it.
    ip.user_ns["trees"] = __import__("pandas").DataFrame({"height": [4.0, None, 5.0, 7.0]})
    request = "Mean and std of height? Answer format: @mean[m] @std[s], two decimals."
    nan_std = code("import numpy as np\nm, s = trees.height.mean(), np.std(trees.height.values)\n"
                   "final_answer(f'@mean[{m:.2f}] @std[{s:.2f}]')")
    fixed = code("s = np.std(trees.height.dropna().values)\nfinal_answer(f'@mean[{m:.2f}] @std[{s:.2f}]')")
    model.reset(nan_std, fixed, "never asked")
    run = codeact(ip, model, request, "default,+no_value_parts")
    assert run.status == "answered" and run.answer == "@mean[5.33] @std[1.25]" and run.answer_step == 2
    assert run.follow_ups == ["no_value"] and len(model.requests) == 2
    assert sent(model, 1)[-1]["content"].endswith(
        "@std[nan] in your answer holds no value: a NaN or None comes from missing values in the data "
        "(empty cells, a column read as text), from a selection that holds no rows, or from a lookup "
        "that missed. Print what it was computed from (how many values, how many missing) to find "
        "where, compute it again without that fault, then call final_answer with the whole answer.")
    assert "parts of the answer hold no value (NaN, None): told to compute them" in capsys.readouterr().out
    # Told once: the same answer again is taken (the user sees its NaN). In words, the same.
    model.reset(nan_std, nan_std, "never asked")
    run = codeact(ip, model, request, "default,+no_value_parts", "--new")
    assert run.status == "answered" and run.answer == "@mean[5.33] @std[nan]" and len(model.requests) == 2
    model.reset(code("print(trees.height.mean())"), "@mean[5.33] @std[nan]", "@mean[5.33] @std[nan]")
    run = codeact(ip, model, request, "default,+no_value_parts", "--new")
    assert run.follow_ups == ["no_value"] and run.answer == "@mean[5.33] @std[nan]"
    assert sent(model, 2)[-1]["content"].endswith("then give the whole answer in the form the request asks.")
    # Two parts: "they were", "them".
    model.reset(code("final_answer('@mean[nan] @std[nan]')"), "@mean[5.33] @std[1.25]")
    run = codeact(ip, model, request, "default,+no_value_parts", "--new")
    assert "Print what they were computed from (how many values, how many missing) to find where, " \
           "compute them again" in sent(model, 1)[-1]["content"]
    # Without the tactic, the NaN answer is taken at once (after the usual review).
    model.reset(nan_std, nan_std, "never asked")
    run = codeact(ip, model, request, "default", "--new")
    assert "no_value" not in run.follow_ups and run.answer == "@mean[5.33] @std[nan]"


def test_a_whole_table_handed_over_is_sent_back_to_pick_the_one_thing_asked(ip, model):
    # A follow-up on a DataFrame: the model printed the missing counts, then handed all of them over.
    ip.user_ns["survey"] = __import__("pandas").DataFrame({"price": [1, None, 3], "rating": [None, None, 2]})
    model.reset(code("missing = survey.isna().sum()\nfinal_answer(missing)"),
                code("final_answer(missing.idxmax())"))
    run = codeact(ip, model, "Which column has the most missing values?", "none,+final_answer,+restate")
    assert run.answer == "rating" and run.answer_step == 2
    review = sent(model, 1)[-1]["content"]
    assert "You passed a Series of 2 values to final_answer." in review
    assert "call final_answer with just that, picked out of it by code" in review


def test_a_whole_table_is_sent_back_even_after_the_review_was_spent(ip, model):
    # The review of an answer in words spends the one review; the Series then handed over is still
    # not the answer.
    ip.user_ns["survey"] = __import__("pandas").DataFrame({"price": [1, None, 3], "rating": [None, None, 2]})
    model.reset(code("missing = survey.isna().sum()\nprint(missing)"), "price and rating",
                code("final_answer(missing)"), code("final_answer(missing.idxmax())"), "never asked")
    run = codeact(ip, model, "Which column has the most missing values?", "none,+final_answer,+restate")
    assert "Give the final answer now" in sent(model, 2)[-1]["content"]
    assert "You passed a Series of 2 values to final_answer." in sent(model, 3)[-1]["content"]
    assert run.answer == "rating" and run.answer_step == 3 and len(model.requests) == 4
    # The review of the words, then the table's message (a review, counted apart as "whole").
    assert run.follow_ups == ["review", "review", "whole"]


def test_a_list_handed_over_gets_the_usual_review(ip, model):
    # A list is often the answer asked for ("the three largest"): no more than the request again.
    model.reset(code("final_answer([3, 2, 1])"), code("final_answer([3, 2, 1])"))
    run = codeact(ip, model, "The three largest, in order.", "none,+final_answer,+restate,+restate_formless")
    assert run.answer == "[3, 2, 1]" and run.answer_step == 1
    assert "If [3, 2, 1] is exactly what the request asks for" in sent(model, 1)[-1]["content"]


def test_an_answer_without_steps_is_not_reviewed(ip, model):
    model.reset("Hello!")
    run = codeact(ip, model, "hi", "none,+restate,+check")
    assert run.answer == "Hello!" and len(model.requests) == 1


def test_check_asks_for_the_numbers_to_come_from_the_outputs(ip, model):
    model.reset(code("print(2 + 2)"), "It is 5.", "It is 4.")
    run = codeact(ip, model, "two plus two", "none,+check")
    assert run.answer == "It is 4."
    assert "every number in it must come from the outputs above" in sent(model, 2)[-1]["content"]


# ---- require_code: a grammar where the server takes one ----

def test_require_code_sends_a_grammar_on_the_first_call_only(ip, model):
    from codeact_magic.model import CODE_GRAMMAR, LiteLLM

    backend = LiteLLM(MODEL, api_base=model.url, grammar=True)
    model.reset(code("print(6 * 7)"), "42")
    ip.run_line_magic("config", "CodeAct.tactics = 'none,require_code=first'")
    ip.user_ns["_backend"] = backend
    assert ip.run_cell("import codeact_magic\nr = await codeact_magic.arun('six times seven', model=_backend, display=False)").success
    assert model.requests[0]["grammar"] == CODE_GRAMMAR and "grammar" not in model.requests[1]


def test_no_grammar_goes_to_a_server_not_known_to_take_one(ip, model):
    model.reset("42", code("print(42)"), "42")
    codeact(ip, model, "six times seven", "default,-restate")
    assert all("grammar" not in r for r in model.requests)
    # There, a first reply without code gets the nudge instead.
    assert sent(model, 1)[-1]["content"].startswith("You answered without running any code.")


def test_the_grammar_accepts_a_reply_with_a_block_and_nothing_else():
    # llama.cpp's own grammar engine, over the embedded model's vocabulary (bench/grammar.py).
    pytest.importorskip("llama_cpp")
    from codeact_magic.bench.grammar import accepts, parses

    from codeact_magic.model import CODE_GRAMMAR

    assert parses(CODE_GRAMMAR) and not parses('root ::= "a" [')
    assert accepts(CODE_GRAMMAR, "I will add them.\n```python\nprint(2 + 2)\n```")
    assert accepts(CODE_GRAMMAR, "```python\nx = '`'\nprint(x)\n```\n")
    assert not accepts(CODE_GRAMMAR, "It is 4.")  # an answer in words is what it rules out


def test_form_grammar_holds_the_reply_after_the_form_message_to_the_form(ip, model):
    from codeact_magic.answer_form import find
    from codeact_magic.form_grammar import form_grammar
    from codeact_magic.model import LiteLLM

    ip.user_ns["_backend"] = LiteLLM(MODEL, api_base=model.url, grammar=True)

    def run_with(tactics: str) -> None:
        model.reset(code("total = 19 + 23\nfinal_answer(total)"), code("final_answer(f'@total[{total}]')"))
        ip.run_line_magic("config", f"CodeAct.tactics = '{tactics}'")
        assert ip.run_cell(f"import codeact_magic\nr = await codeact_magic.arun({FORM_REQUEST!r}, "
                           "model=_backend, display=False)").success
        assert ip.user_ns["r"].answer == "@total[42]"

    run_with("none,+final_answer,+answer_form,+form_grammar")
    # Only the reply to the form's message is held to it.
    assert "grammar" not in model.requests[0]
    assert model.requests[1]["grammar"] == form_grammar(find(FORM_REQUEST))
    run_with("none,+final_answer,+answer_form")
    assert all("grammar" not in r for r in model.requests)


def test_the_form_grammar_takes_the_forms_parts_in_order_and_nothing_else_from_the_model():
    pytest.importorskip("llama_cpp")
    from codeact_magic.bench.grammar import accepts

    from codeact_magic.answer_form import find
    from codeact_magic.form_grammar import form_grammar

    one = form_grammar(find(FORM_REQUEST))
    block = "The output shows it, so I give it in the form asked.\n```python\n{}\n```"
    # The slots are the model's: a value, an f-string's fields, a list; in a call or in words.
    for reply in (block.format("final_answer('@total[42]')"), block.format('final_answer(f"@total[{total}]")'),
                  block.format("final_answer(f'@total[{df[\"a\"].sum():.2f}]')"),
                  block.format("final_answer('@total[[1, 2]]')"), "@total[42]", "The total is @total[42]."):
        assert accepts(one, reply), reply
    # What the small model wrote, shown final_answer('@number_of_outliers[0]'); a bare value; words
    # without the form; more code after the call.
    for reply in (block.format("final_answer('@0 total')"), block.format("final_answer(42)"),
                  "The total is 42.", block.format("final_answer('@total[42]')\nprint(total)")):
        assert not accepts(one, reply), reply

    three = form_grammar(find("Find them.\n\nAnswer format: @mean_age[mean] and @max_fare[max]. "
                              "Output the answer using 'Answer: your answer'"))
    for reply in (block.format('final_answer("@mean_age[29.7] @max_fare[512.33]\\nAnswer: yes")'),
                  block.format("final_answer(f'@mean_age[{m}], @max_fare[{x}], Answer: {a}')"),
                  block.format("final_answer('@mean_age[29.7]@max_fare[512.33] Answer: yes')"),
                  "@mean_age[29.7]\n@max_fare[512.33]\nAnswer: yes"):
        assert accepts(three, reply), reply
    for reply in (block.format("final_answer('@max_fare[512.33] @mean_age[29.7] Answer: yes')"),
                  block.format("final_answer('@mean_age[29.7] @max_fare[512.33]')"),
                  block.format('final_answer("0.0000[normal]")'), block.format('final_answer("No", "0.000")')):
        assert not accepts(three, reply), reply


def test_the_replay_names_the_stored_runs_the_form_grammar_would_change(tmp_path):
    # Without the model: the runs whose reply to the form's message misses the form.
    pytest.importorskip("llama_cpp")
    import json
    import subprocess
    import sys
    from pathlib import Path

    from codeact_magic.answer_form import find
    from codeact_magic.prompts import Prompts

    told = Prompts().wrong_form("42", find(FORM_REQUEST).text, ["@total["], from_code=True)
    runs = tmp_path / "runs.jsonl"
    runs.write_text("".join(json.dumps({"task": task, "score": {"solved": False}, "trajectory": [
        {"role": "system", "content": "..."}, {"role": "user", "content": FORM_REQUEST},
        {"role": "assistant", "content": code("final_answer(42)")}, {"role": "user", "content": told},
        {"role": "assistant", "content": reply}]}) + "\n"
        for task, reply in (("7", code("final_answer('@total[42]')")), ("8", code("final_answer('@42 total')")),
                            ("9", "@total[42]"))))
    script = Path(__file__).parent.parent / "benchmarks" / "form_grammar_replay.py"
    done = subprocess.run([sys.executable, str(script), str(runs)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Replies to the form's message: 3; the grammar refuses 1" in done.stdout
    assert done.stdout.rstrip().endswith("ids: 8")


# ---- answer_form ----

FORM_REQUEST = ("What is the total of 19 and 23?\n\nAnswer format: @total[value] where value is an "
                "integer.")


def test_an_answer_not_in_the_form_the_request_gives_is_shown_that_form(ip, model):
    model.reset(code("total = 19 + 23\nfinal_answer(total)"), code("final_answer(f'@total[{total}]')"),
                "never asked")
    run = codeact(ip, model, FORM_REQUEST, "none,+final_answer,+answer_form,+fill_form,+restate")
    told = sent(model, 1)[-1]["content"]
    assert told.startswith("Execution result:\nfinal_answer received: 42\n\n")
    assert told.endswith("Your answer '42' is not in the form the request asks for:\nAnswer format: "
                         "@total[value] where value is an integer.\n\nIt lacks @total[. Give the same "
                         "values in exactly that form: call final_answer with the whole answer, as one "
                         "string in that form. That is: final_answer('@total[42]')")
    # In the form now: taken without the restated request (the form message was the review).
    assert run.answer == "@total[42]" and run.follow_ups == ["form", "filled"] and len(model.requests) == 2
    # Without fill_form: the form and what it lacks, no more.
    model.reset(code("total = 19 + 23\nfinal_answer(total)"), code("final_answer(f'@total[{total}]')"))
    run = codeact(ip, model, FORM_REQUEST, "none,+final_answer,+answer_form,+restate")
    assert sent(model, 1)[-1]["content"].endswith("as one string in that form.")
    assert run.answer == "@total[42]" and run.follow_ups == ["form"]


def test_the_form_is_not_filled_in_where_the_values_could_go_in_more_than_one_way(ip, model):
    two_slots = "Total and product of 6 and 7?\n\nAnswer format: @total[value] @product[value]"
    model.reset(code("final_answer(13)"), code("final_answer('@total[13] @product[42]')"))
    run = codeact(ip, model, two_slots, "none,+final_answer,+answer_form,+fill_form")
    told = sent(model, 1)[-1]["content"]
    assert told.endswith("It lacks @total[, @product[. Give the same values in exactly that form: call "
                         "final_answer with the whole answer, as one string in that form.")
    assert run.answer == "@total[13] @product[42]"
    # One slot, but an answer of two numbers: which is the value is the model's to say.
    model.reset(code("final_answer('42 of 60')"), code("final_answer('@total[42]')"))
    run = codeact(ip, model, FORM_REQUEST, "none,+final_answer,+answer_form,+fill_form")
    assert "That is:" not in sent(model, 1)[-1]["content"] and run.answer == "@total[42]"


def test_values_given_to_final_answer_as_separate_parts_are_shown_put_in_the_form(ip, model):
    two_slots = "Total and product of 6 and 7?\n\nAnswer format: @total[value] @product[value]"
    # Two arguments: the parts of one answer (a TypeError before), one per slot in the form's order.
    model.reset(code("final_answer(13, 42)"), code("final_answer('@total[13] @product[42]')"))
    run = codeact(ip, model, two_slots, "none,+final_answer,+answer_form,+fill_form")
    told = sent(model, 1)[-1]["content"]
    assert "final_answer received: 13 42" in told and "TypeError" not in told
    assert told.endswith("That is: final_answer('@total[13] @product[42]')")
    assert run.answer == "@total[13] @product[42]" and run.follow_ups == ["form", "filled"]
    # A number with its unit, for one slot: the number.
    model.reset(code("final_answer('42 units')"), code("final_answer('@total[42]')"))
    run = codeact(ip, model, FORM_REQUEST, "none,+final_answer,+answer_form,+fill_form")
    assert sent(model, 1)[-1]["content"].endswith("That is: final_answer('@total[42]')")


def test_an_answer_in_words_not_in_the_form_is_shown_it_and_one_in_it_is_not(ip, model):
    model.reset(code("print(19 + 23)"), "The total is 42.", "@total[42]")
    run = codeact(ip, model, FORM_REQUEST, "none,+answer_form")
    assert sent(model, 2)[-1]["content"].endswith("write the whole answer in that form.")
    assert run.answer == "@total[42]"
    model.reset(code("print(19 + 23)"), "@total[42]")
    run = codeact(ip, model, FORM_REQUEST, "none,+answer_form")
    assert run.answer == "@total[42]" and len(model.requests) == 2 and run.follow_ups == []
    # Without the tactic: the restated request, as before.
    model.reset(code("total = 19 + 23\nfinal_answer(total)"), code("total = 19 + 23\nfinal_answer(total)"))
    run = codeact(ip, model, FORM_REQUEST, "none,+final_answer,+restate")
    assert sent(model, 1)[-1]["content"].split("\n\n", 1)[1].startswith("Before your answer is final")
    assert run.answer == "42"


# ---- stalls ----

def test_the_same_code_again_is_told_once_then_stops(ip, model):
    model.reset(code("print('again')"), code("print('again')"), code("print('other')"), "Done.")
    run = codeact(ip, model, "repeat", "none,+stall_warning")
    assert run.status == "answered" and [s.code for s in run.steps] == ["print('again')\n", "print('other')\n"]
    warned = sent(model, 2)
    assert warned[-1]["content"].startswith("Execution result:\nagain\n\nYou sent the code of your "
                                            "previous step again, unchanged")
    # The repeat is not in the conversation: the model reads its code once, not twice.
    assert sum("print('again')" in m["content"] for m in warned if m["role"] == "assistant") == 1
    assert run.follow_ups == ["stall"]
    model.reset(code("print('x')"), code("print('x')"), code("print('x')"))
    run = codeact(ip, model, "repeat", "none,+stall_warning")
    assert run.status == "stopped" and "same code" in run.note and len(model.requests) == 3


def test_code_that_repeats_an_earlier_step_is_told_once(ip, model):
    # A, B, A: going round in a circle of two is a stall too.
    model.reset(code("print('a')"), code("print('b')"), code("print('a')"), code("print('c')"), "Done.")
    run = codeact(ip, model, "circle", "none,+stall_warning")
    assert run.status == "answered" and [s.output for s in run.steps] == ["a", "b", "c"]
    warning = sent(model, 3)[-1]["content"]
    assert warning.startswith("Execution result:\nb\n\nYou sent the code of your step 1 again, "
                              "unchanged: it would do the same again. It gave:\na\n")


def test_after_the_warning_the_same_code_again_is_asked_once_more_sampled(ip, model):
    # At temperature 0 the model answers the warning as it answered before: resample samples
    # one more reply before the run gives up.
    ip.run_line_magic("config", "CodeAct.temperature = 0.0")
    try:
        model.reset(code("print('a')"), code("print('a')"), code("print('a')"), code("print('b')"), "Done.")
        run = codeact(ip, model, "repeat", "none,+stall_warning,+resample")
        assert [r.get("temperature") for r in model.requests] == [0, 0, 0, 0.7, 0]
        assert run.status == "answered" and [s.output for s in run.steps] == ["a", "b"]
        assert run.follow_ups == ["stall", "resample"]
        model.reset(*(code("print('a')") for _ in range(4)))
        run = codeact(ip, model, "repeat", "none,+stall_warning,+resample")
        assert run.status == "stopped" and "same code" in run.note and len(model.requests) == 4
    finally:
        ip.run_line_magic("config", "CodeAct.temperature = None")


def test_a_stall_the_warning_did_not_end_starts_the_conversation_again(ip, model):
    # The fix goes after the failing line, and then the same code comes again despite the warning:
    # the failed attempts leave the conversation, a summary of them joins the request.
    ip.user_ns.pop("weights", None)
    failing = "weights = [1, 2]\nx = int('4 kg')\nprint(x)"
    fixed = failing + "\nx = x.strip()"
    model.reset(code(failing), code(fixed), code(fixed), code(fixed),
                code("print(int('4 kg'.split()[0]) + sum(weights))"), "It is 7.")
    run = codeact(ip, model, "weight plus weights", "none,+stall_warning,+fresh_start")
    assert run.status == "answered" and run.answer == "It is 7." and run.steps[-1].output == "7"
    assert run.follow_ups == ["stall", "fresh"] and len(run.steps) == 3
    again = sent(model, 4)
    # Only the system prompt and the request: none of the failed code is left to copy.
    assert [m["role"] for m in again] == ["system", "user"]
    assert again[1]["content"].startswith("weight plus weights")
    assert "x.strip()" not in again[1]["content"]
    assert again[1]["content"].endswith(
        "Your earlier code for this request failed twice and went round in circles, so it is left out "
        "here. The last attempt ended on:\nValueError: invalid literal for int() with base 10: '4 kg'\n"
        "The line that raised it:\n    x = int('4 kg')\nWhat the earlier steps made is still in the "
        "kernel:\nweights: list (len 2) = [1, 2]\nWrite new code that takes another way, without that line.")
    # The next reply is taken up in the shortened conversation, and the run's record keeps every step.
    assert [m["role"] for m in sent(model, 5)] == ["system", "user", "assistant", "user"]
    # Without the tactic, the same replies end the run as a stall.
    model.reset(code(failing), code(fixed), code(fixed), code(fixed))
    run = codeact(ip, model, "weight plus weights", "none,+stall_warning")
    assert run.status == "stopped" and "same code" in run.note


def test_the_same_error_after_the_warning_starts_the_conversation_again(ip, model):
    model.reset(*(code(f"undefined_2  # {i}") for i in range(4)), code("print('fixed')"), "ok")
    run = codeact(ip, model, "fail", "none,+stall_warning,+fresh_start")
    assert run.follow_ups == ["stall", "fresh"] and run.status == "answered"
    assert [m["role"] for m in sent(model, 4)] == ["system", "user"]
    assert "failed 4 times" in sent(model, 4)[1]["content"]
    assert "NameError: name 'undefined_2' is not defined" in sent(model, 4)[1]["content"]
    # After the start again, three more of the same error are counted afresh, then the run stops.
    model.reset(*(code(f"undefined_2  # {i}") for i in range(7)))
    run = codeact(ip, model, "fail", "none,+stall_warning,+fresh_start")
    assert run.status == "stopped" and "same error" in run.note and len(run.steps) == 7


def test_a_repeated_failing_step_is_told_the_line_that_fails(ip, model):
    model.reset(code("rows = [1, 2]\ntotal = sum(rows) + missing_q\nprint(total)"),
                code("rows = [1, 2]\ntotal = sum(rows) + missing_q\nprint(total)"),
                code("print(sum([1, 2]))"), "Done.")
    run = codeact(ip, model, "add", "none,+stall_warning")
    warning = sent(model, 2)[-1]["content"]
    assert "NameError" in warning  # the step's own feedback, then the warning
    assert "The line that fails is line 2:\n    total = sum(rows) + missing_q\n" in warning
    assert run.steps[0].error.where.number == 2 and run.status == "answered"


def test_a_fix_that_leaves_the_failing_line_as_it_was_is_told_so(ip, model):
    # The model "fixes" the error by adding a line after the one that fails.
    model.reset(code("x = int('4 kg')\nprint(x)"),
                code("x = int('4 kg')\nx = x.strip()\nprint(x)"),
                code("x = int('4 kg'.split()[0])\nprint(x)"), "Done.")
    run = codeact(ip, model, "weight", "none,+same_line")
    told = sent(model, 2)[-1]["content"]
    assert told.startswith("Execution failed:") and "ValueError" in told
    assert told.endswith("Line 1 failed again with the same error, and it is the same line as in "
                         "your previous step:\n    x = int('4 kg')\nYour change did not touch it: "
                         "change that line itself. If you do not see why it fails, first print a few "
                         "of the values it works on and their types.")
    assert "same line" not in sent(model, 1)[-1]["content"]  # the first failure is not "again"
    assert run.follow_ups == ["line"] and run.steps[-1].output == "4"
    # Without the tactic, the error alone.
    model.reset(code("x = int('4 kg')"), code("x = int('4 kg')\ny = 1"), "Stop.")
    codeact(ip, model, "weight", "none")
    assert "same line" not in sent(model, 2)[-1]["content"]


def test_a_failed_step_is_shown_the_dataframes_its_code_uses(ip, model, tmp_path):
    # The file's header has a space after each comma: the column is ' WINDSPEED', not 'WINDSPEED'.
    data = tmp_path / "wind.csv"
    data.write_text("DATE TIME, WINDSPEED, DIR\n01/01 00:00,2.72,288\n01/01 01:00,3.89,273\n")
    model.reset(code(f"import pandas as pd\nwind = pd.read_csv({str(data)!r})\nprint(wind['WINDSPEED'].mean())"),
                code("copy = wind.copy()\nprint(copy['WINDSPEED'].mean())"),
                code("print(wind[' WINDSPEED'].mean()"),  # a syntax error: about code, not data
                code("print(round(wind[' WINDSPEED'].mean(), 3))"), "3.305")
    run = codeact(ip, model, "mean wind speed", "none,+error_context")
    told = sent(model, 1)[-1]["content"]
    assert told.startswith("Execution failed:") and "KeyError" in told
    assert told.endswith("The DataFrames this code uses, as they are now (write column names exactly "
                         "as listed here):\n- wind: DataFrame, 2 rows × 3 columns\n    columns: "
                         "DATE TIME: str, ' WINDSPEED': float64, ' DIR': int64\n    first rows:\n"
                         "           DATE TIME   WINDSPEED   DIR\n      0  01/01 00:00        2.72   288\n"
                         "      1  01/01 01:00        3.89   273")
    # Next failure: the frame it has read is not shown again, the new one is.
    again = sent(model, 2)[-1]["content"]
    assert "- copy: DataFrame" in again and "- wind:" not in again
    assert "DataFrames this code uses" not in sent(model, 3)[-1]["content"]  # the syntax error
    assert run.status == "answered" and run.steps[-1].output == "3.305"
    assert run.follow_ups == ["frames", "frames"]
    # Without the tactic, the error alone.
    model.reset(code(f"import pandas as pd\nwind = pd.read_csv({str(data)!r})\nwind['WINDSPEED']"), "Stop.")
    codeact(ip, model, "mean wind speed", "none")
    assert "DataFrames this code uses" not in sent(model, 1)[-1]["content"]


def test_a_named_file_whose_header_spaces_its_names_is_said_to_before_any_code_reads_it(ip, model, tmp_path):
    # "DATE TIME, WINDSPEED, DIR": pandas reads ' WINDSPEED'. Said with the request, with the strip.
    data = tmp_path / "wind.csv"
    data.write_text("DATE TIME, WINDSPEED, DIR\n01/01 00:00,2.72,288\n01/01 01:00,3.89,273\n")
    tidy = tmp_path / "tidy.csv"
    tidy.write_text("city,amount\nOslo,3\n")
    model.reset("Done.")
    codeact(ip, model, f"mean wind speed in {data} (not {tidy})", "none,+act_first,context=rich,+header_spaces")
    request = sent(model, 0)[-1]["content"]
    said = (f"The header of {data} writes its names with spaces around them (' WINDSPEED', ' DIR'): "
            "strip the column names right after reading the file, and they read as the request "
            "writes them: df.columns = df.columns.str.strip()")
    assert said in request and "The header of " + str(tidy) not in request
    # After the files' first lines, before the closing ask to act.
    assert request.index("01/01 01:00,3.89,273") < request.index(said) < request.index("Work on this with code")
    # Without the tactic, not said.
    model.reset("Done.")
    codeact(ip, model, f"mean wind speed in {data}", "none,+act_first,context=rich")
    assert "writes its names with spaces" not in sent(model, 0)[-1]["content"]


def test_the_names_a_header_spaces_are_found_in_csv_and_tsv_files_only(tmp_path):
    from codeact_magic.kernel_context import spaced_names

    cases = {"a.csv": "DATE TIME, WINDSPEED, DIR\n1,2,3\n", "b.csv": "\ufeffyear,pop,country\n1952,1,x\n",
             "c.tsv": "calls answered\tcalls abandoned \n1\t2\n", "d.csv": "name,\"Smith, J\"\nx,y\n",
             "e.json": '{" a": 1}\n', "f.csv": ""}
    found = {}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        found[name] = spaced_names(tmp_path / name)
    assert found == {"a.csv": (" WINDSPEED", " DIR"), "b.csv": (), "c.tsv": ("calls abandoned ",),
                     "d.csv": (), "e.json": (), "f.csv": ()}


def test_a_missing_column_or_name_is_followed_by_the_near_one_the_kernel_has(ip, model, tmp_path):
    # The file's header has a space after each comma: the column is ' WINDSPEED', not 'WINDSPEED'.
    data = tmp_path / "wind.csv"
    data.write_text("DATE TIME, WINDSPEED, DIR\n01/01 00:00,2.72,288\n01/01 01:00,3.89,273\n")
    ip.user_ns.pop("mrna_sequence", None)
    model.reset(code(f"import pandas as pd\nwind = pd.read_csv({str(data)!r})\n"
                     "print(wind.dropna(subset=['WINDSPEED'])['WINDSPEED'].mean())"),
                code("print(wind['gusts'].mean())"),
                code("mRNA_sequence = 'AUG'\nprint(mrna_sequence)"),
                code("wind.columns = wind.columns.str.strip()\nprint(round(wind['WINDSPEED'].mean(), 3))"),
                "3.305")
    run = codeact(ip, model, "mean wind speed", "none,+suggest")
    told = sent(model, 1)[-1]["content"]
    assert "KeyError: ['WINDSPEED']" in told
    assert told.endswith("wind has no column 'WINDSPEED': the file's header writes it ' WINDSPEED', with "
                         "spaces around it. Strip the column names right after reading the file, and "
                         "'WINDSPEED' works in this step and every later one: "
                         "wind.columns = wind.columns.str.strip()")
    # Nothing near: what the frame has, as written.
    assert sent(model, 2)[-1]["content"].endswith(
        "wind has no column 'gusts'. It has: 'DATE TIME', ' WINDSPEED', ' DIR'.")
    # A variable spelled another way.
    assert sent(model, 3)[-1]["content"].endswith(
        "mrna_sequence is not defined, but the kernel has mRNA_sequence: did you mean mRNA_sequence?")
    assert run.status == "answered" and run.steps[-1].output == "3.305"
    assert run.follow_ups == ["suggest", "suggest", "suggest"]
    # Without the tactic, the error alone.
    model.reset(code("print(wind['gusts'])"), "Stop.")
    codeact(ip, model, "mean wind speed", "none")
    assert "It has:" not in sent(model, 1)[-1]["content"]


def test_a_missing_method_is_followed_by_the_call_that_does_it(ip, model):
    # What scipy's zscore returns is an array, which has no .abs() (a Series has).
    model.reset(code("import numpy as np\nz = np.array([-4.0, 1.0, 0.5])\nprint(int((z.abs() > 3).sum()))"),
                code("print(int((abs(z) > 3).sum()))"), "1")
    run = codeact(ip, model, "how many |z| > 3", "none,+suggest,+attribute_help")
    told = sent(model, 1)[-1]["content"]
    assert "AttributeError: 'numpy.ndarray' object has no attribute 'abs'" in told
    assert told.endswith("z is a numpy.ndarray, which has no method abs: write abs(z) instead.")
    assert run.steps[-1].output == "1" and run.follow_ups == ["suggest"]
    # Without attribute_help, suggest says nothing of an attribute.
    model.reset(code("print(int((z.abs() > 3).sum()))"), "Stop.")
    codeact(ip, model, "how many |z| > 3", "none,+suggest")
    assert "no method abs" not in sent(model, 1)[-1]["content"]


def test_a_call_with_a_keyword_its_function_lacks_is_followed_by_what_it_takes(ip, model):
    # As scikit-learn 1.6's mean_squared_error, which lost squared=: a check by Signature.bind,
    # whose error names no function.
    ip.run_cell("import functools, inspect\n"
                "def _checked(function):\n"
                "    @functools.wraps(function)\n"
                "    def wrapper(*args, **kwargs):\n"
                "        inspect.signature(function).bind(*args, **kwargs)\n"
                "        return sum((a - b) ** 2 for a, b in zip(*args)) / len(args[0])\n"
                "    return wrapper\n"
                "@_checked\n"
                "def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput='uniform_average'):\n"
                "    pass\n")
    model.reset(code("print(mean_squared_error([1.0, 3.0], [1.0, 1.0], squared=False))"),
                code("print(mean_squared_error([1.0, 3.0], [1.0, 1.0]) ** 0.5)"), "1.414")
    run = codeact(ip, model, "rmse", "none,+signature")
    told = sent(model, 1)[-1]["content"]
    assert "TypeError: got an unexpected keyword argument 'squared'" in told
    assert told.endswith("mean_squared_error takes (y_true, y_pred, *, sample_weight=None, "
                         "multioutput='uniform_average'): it has no parameter squared.")
    assert run.steps[-1].output.startswith("1.414") and run.follow_ups == ["signature"]
    # Without the tactic, the error alone.
    model.reset(code("print(mean_squared_error([1.0], [1.0], squared=False))"), "Stop.")
    codeact(ip, model, "rmse", "none")
    assert "takes (" not in sent(model, 1)[-1]["content"]


def test_a_step_python_cannot_read_is_said_to_have_run_no_line_and_its_wrong_field_shown(ip, model):
    ip.user_ns.pop("mean_age", None)
    model.reset(code("mean_age = 29.7\nprint(mean_age)\nfinal_answer(f\"{@mean_age[{mean_age}]}\")"),
                code("mean_age = 29.7\nfinal_answer(f\"@mean_age[{mean_age}]\")"))
    run = codeact(ip, model, "mean age, as @mean_age[value]", "none,+final_answer,+syntax_help")
    told = sent(model, 1)[-1]["content"]
    assert "SyntaxError" in told
    assert told.endswith(
        "Python could not read line 3, so no line of this step ran: nothing was printed and no variable "
        "was set.\nIn the f-string on that line, {@mean_age[{mean_age}]} is not Python code: between { "
        "and } an f-string holds only an expression (a name, a call), as in f\"total: {total:.2f}\"; the "
        "words around it go outside the braces.")
    assert run.status == "answered" and run.answer == "@mean_age[29.7]" and run.follow_ups == ["syntax"]
    # Without the tactic, the error alone.
    model.reset(code("print(f\"{@x}\")"), "Stop.")
    codeact(ip, model, "x", "none")
    assert "could not read" not in sent(model, 1)[-1]["content"]


def _count_max(counts):
    """A tool that takes a dict of counts."""
    return max(counts, key=counts.get)


def test_a_failed_line_is_followed_by_the_values_it_works_on(ip, model):
    # A tool that returns a list of dicts, read as one dict: the model has never seen the shape.
    ip.user_ns["book_hotel"] = lambda location: [
        {"location": location, "price_per_night": 120 + i, "rating": 4} for i in range(5)]
    ip.user_ns["count_max"] = _count_max
    ip.user_ns.pop("hotel", None)
    model.reset(code("hotel = book_hotel('B')\nnights = 3\nprint(hotel['price_per_night'] * nights)"),
                code("def total(h, n):\n    cheapest = min(x['price_per_night'] for x in h)\n"
                     "    return h.price * n\nprint(total(hotel, nights))"),
                code("print(hotel['price_per_night'] * nights)"),
                code("sizes = ['S', 'M']\nprint([count_max(s) for s in sizes])"),
                code("print(undefined_total + nights)"),
                code("print(min(h['price_per_night'] for h in hotel) * nights)"), "360")
    run = codeact(ip, model, "3 nights at the cheapest hotel in B", "none,+error_values")
    told = sent(model, 1)[-1]["content"]
    assert "TypeError: list indices must be integers or slices, not str" in told
    # The list bounded by reprlib: its length, its first three dicts.
    shown = ("list (len 5) = [" + ", ".join(f"{{'location': 'B', 'price_per_night': {p}, 'rating': 4}}"
                                            for p in (120, 121, 122)) + ", ...]")
    assert told.endswith(f"Line 3 failed on these values, as the step left them:\n- hotel: {shown}\n"
                         "- nights: int = 3\nChange the code for what they really hold.")
    # In a function the step defines: its own locals, not the kernel's names.
    told = sent(model, 2)[-1]["content"]
    assert "AttributeError" in told and told.endswith(
        f"Line 3 failed on these values, as the step left them:\n- h: {shown}\n- n: int = 3\n"
        "Change the code for what they really hold.")
    # An error raised inside a function the user gave: what it was called with, too.
    told = sent(model, 4)[-1]["content"]
    assert "AttributeError: 'str' object has no attribute 'get'" in told and told.endswith(
        "Line 2 failed on these values, as the step left them:\n- s: str (len 1) = 'S'\n"
        "- sizes: list (len 2) = ['S', 'M']\n"
        "count_max() raised the error; it was called with:\n- counts: str (len 1) = 'S'\n"
        "Change the code for what they really hold.")
    # A name not defined is not about values (suggest answers it): nothing added.
    assert sent(model, 5)[-1]["content"].rstrip().endswith("answer in plain words if it cannot be done.")
    # The same values again: shown once per run.
    assert "failed on these values" not in sent(model, 3)[-1]["content"]
    assert run.status == "answered" and run.steps[-1].output == "360"
    assert run.follow_ups == ["values", "values", "values"]
    # Without the tactic, the error alone.
    model.reset(code("print(hotel['price_per_night'])"), "Stop.")
    codeact(ip, model, "price", "none")
    assert "failed on these values" not in sent(model, 1)[-1]["content"]


def test_a_stall_on_failing_code_is_met_with_the_values_its_line_works_on(ip, model):
    # The dev task the defaults miss: a float's digits, and the cut the model tried instead.
    failing = "import math\ns = sum(int(d) for d in str(math.pow(2, 100)))\nprint(s)"
    model.reset(code(failing), code(failing), code("final_answer(sum(int(d) for d in str(2 ** 100)))"))
    run = codeact(ip, model, "Sum of the digits of 2**100?", "none,+final_answer,+stall_warning,+stall_values")
    assert run.answer == "115" and run.follow_ups == ["stall_values", "stall"]
    told = sent(model, 2)[-1]["content"]
    assert "ValueError: invalid literal for int() with base 10: '.'" in told
    # The warning names the line, then shows what it worked on: the character, and the sequence
    # the generator went over, named as the line writes it.
    assert told.endswith("Line 2 failed on these values, as the step left them:\n- d: str (len 1) = '.'\n"
                         "- str(math.pow(2, 100)): str (len 22) = '1.2676506002282294e+30'\n"
                         "Change the code for what they really hold.")
    # The same error a third time, from code that changed: the same, under that warning.
    model.reset(code("print(int('x'))"), code("v = 'x'\nprint(int(v))"), code("w = 1\nv = 'x'\nprint(int(v))"),
                "Cannot.")
    run = codeact(ip, model, "int of x", "none,+stall_warning,+stall_values", "--new")
    told = sent(model, 3)[-1]["content"]
    assert "third time in a row" in told and told.endswith(
        "Line 3 failed on these values, as the step left them:\n- v: str (len 1) = 'x'\n"
        "Change the code for what they really hold.")
    # Without the tactic, the warning alone.
    model.reset(code(failing), code(failing), "Cannot.")
    run = codeact(ip, model, "Sum of the digits of 2**100?", "none,+final_answer,+stall_warning", "--new")
    assert "failed on these values" not in sent(model, 2)[-1]["content"] and run.follow_ups == ["stall"]


def test_a_whole_number_computed_as_a_float_is_met_with_the_exact_int_form(ip, model):
    # The dev task the defaults miss: the digits of a float's text, and int('.') at its point.
    failing = "import math\ns = sum(int(d) for d in str(math.pow(2, 100)))\nprint(s)"
    model.reset(code(failing), code("final_answer(sum(int(d) for d in str(2 ** 100)))"))
    run = codeact(ip, model, "Sum of the digits of 2**100?", "none,+final_answer,+inexact_floats")
    assert run.answer == "115" and run.follow_ups == ["inexact"]
    told = sent(model, 1)[-1]["content"]
    assert "ValueError: invalid literal for int() with base 10: '.'" in told
    assert told.endswith("`math.pow(2, 100)` gives the float 1.2676506002282294e+30, not the whole "
                         "number. A float holds whole numbers exactly only up to 2**53 "
                         "(9007199254740992), and Python writes one from 1e16 on in e-notation, not "
                         "as its digits; Python's ints are exact at any size. Compute whole numbers "
                         "with ints: `2 ** 100`.")
    # An answer the step gave from a rounded float is not taken; said once, the next one is.
    rounded = "n = 3\nfinal_answer(int(math.factorial(25) / math.factorial(n)))"
    model.reset(code("import math\n" + rounded), code(rounded))
    run = codeact(ip, model, "25! divided by 3!?", "none,+final_answer,+inexact_floats", "--new")
    assert run.answer == str(int(math.factorial(25) / 6)) != str(math.factorial(25) // 6)
    assert run.answer_step == 2 and run.follow_ups == ["inexact"]
    assert sent(model, 1)[-1]["content"].endswith(
        "with ints: `math.factorial(25) // math.factorial(n)`. So that answer was not taken: compute "
        "it with ints, print it, then give it.")
    # Without the tactic, the rounded answer is taken at once.
    model.reset(code("import math\n" + rounded))
    run = codeact(ip, model, "25! divided by 3!?", "none,+final_answer", "--new")
    assert run.answer_step == 1 and run.follow_ups == []


class _Browser:
    """A browser over two stored pages, as M3ToolEval's web tools are: methods of one object."""

    def __init__(self):
        self.page = "/"

    def click_url(self, url):
        if url not in ("/", "/products"):
            return "[URL not found.]"
        self.page = url
        return self.view()

    def view(self):
        return f"[Web Page Name: {self.page}]\nLegendary Wand [Clickable '/products/wand']"

    def scroll_down(self):
        raise RuntimeError("no page to scroll")


def _documented(function):
    # M3ToolEval's tools as the harness puts them in the kernel: one factory, so one code object.
    def tool(*args, **kwargs):
        return function(*args, **kwargs)
    return tool


def test_what_the_given_functions_returned_is_shown_after_the_step(ip, model):
    browser = _Browser()
    for name in ("click_url", "view", "scroll_down"):
        ip.user_ns[name] = _documented(getattr(browser, name))
    ip.user_ns["page_of"] = browser.view  # a bound method, given as it is
    # A function of the step's own that clicks a URL it guessed and parses what it never printed.
    guessed = ("def price():\n    click_url('https://example.com/wand')\n    text = view()\n"
               "    return text.split('$')[1] if '$' in text else None\nresult = price()\nprint(result)")
    model.reset(code(guessed),
                code("page = click_url('/products')\nprint(page)\nfor n in range(8):\n    click_url(f'/p{n}')"),
                code("here = page_of()\nscroll_down()"),
                "It has no price.")
    run = codeact(ip, model, "price of the Legendary Wand", "none,+show_calls")
    assert sent(model, 1)[-1]["content"] == (
        "Execution result:\nNone\n\nWhat the functions you were given returned in this step:\n"
        "- click_url('https://example.com/wand') returned [URL not found.]\n"
        "- view() returned:\n    [Web Page Name: /]\n    Legendary Wand [Clickable '/products/wand']")
    # A result the output printed is not repeated; past six calls they are counted.
    told = sent(model, 2)[-1]["content"]
    assert "click_url('/products')" not in told and told.count("returned [URL not found.]") == 5
    assert "- click_url('/p4') returned" in told
    assert told.endswith("- … and 3 more calls")
    # A call that raised is the traceback's: only what returned is listed.
    told = sent(model, 3)[-1]["content"]
    assert "RuntimeError: no page to scroll" in told
    assert told.endswith("What the functions you were given returned in this step:\n"
                         "- page_of() returned:\n    [Web Page Name: /products]\n"
                         "    Legendary Wand [Clickable '/products/wand']")
    assert run.status == "answered" and run.follow_ups == ["calls", "calls", "calls"]
    # Without the tactic, the output alone.
    model.reset(code(guessed), "No price.")
    codeact(ip, model, "price of the Legendary Wand", "none")
    assert sent(model, 1)[-1]["content"] == "Execution result:\nNone"


def test_every_expression_of_a_step_is_shown_with_show_expressions(ip, model):
    # view() on a line of its own, as the small model wrote it before guessing a URL to click.
    ip.user_ns["view"] = lambda: "Welcome to MagicWand Co.!\n- Our Products [Clickable '/products']"
    step = "view()\nx = 2\nx * 21\nprint('printed')\nx + 1"
    model.reset(code(step), "ok")
    codeact(ip, model, "look", "none,+show_expressions")
    assert sent(model, 1)[-1]["content"] == (
        "Execution result:\n[stdout]\nprinted\n[display]\nWelcome to MagicWand Co.!\n"
        "- Our Products [Clickable '/products']\n42\n[result]\n3")
    # An object that is not data (a fitted model's repr) is not shown; nor is it the step's result
    # when the step ends in a statement (IPython's "all" keeps the last value it displayed).
    ip.run_cell("class Fitted:\n    def fit(self):\n        return self\n    def __repr__(self):\n"
                "        return 'LinearRegression()'")
    model.reset(code("m = Fitted()\nm.fit()\nview()\nscore = 0.5\nprint(score)"), "ok")
    codeact(ip, model, "fit", "none,+show_expressions")
    assert sent(model, 1)[-1]["content"] == (
        "Execution result:\n[stdout]\n0.5\n[display]\nWelcome to MagicWand Co.!\n"
        "- Our Products [Clickable '/products']")
    # Without it, as IPython runs a cell: the last expression only.
    model.reset(code(step), "ok")
    codeact(ip, model, "look", "none")
    assert sent(model, 1)[-1]["content"] == "Execution result:\n[stdout]\nprinted\n[result]\n3"
    assert ip.ast_node_interactivity == "last_expr"  # the kernel's own setting is back


def test_the_same_error_three_times_is_told_once_then_stops(ip, model):
    model.reset(*(code(f"undefined_2  # {i}") for i in range(3)), code("print('fixed')"), "ok")
    run = codeact(ip, model, "fail", "none,+stall_warning")
    assert run.status == "answered" and run.steps[-1].output == "fixed"
    assert "third time in a row" in sent(model, 3)[-1]["content"]
    model.reset(*(code(f"undefined_2  # {i}") for i in range(5)))
    run = codeact(ip, model, "fail", "none,+stall_warning")
    assert run.status == "stopped" and "same error" in run.note and len(run.steps) == 4


# ---- replies that end early ----

def test_a_reply_cut_by_the_length_limit_is_asked_again_never_run(ip, model):
    ip.user_ns.pop("half", None)
    model.reset(Reply("Let me:\n```python\nhalf = 1\nx = [1,", finish_reason="length"),
                code("print(3)"), "It is 3.")
    run = codeact(ip, model, "three", "none")
    assert "half" not in ip.user_ns and [s.code for s in run.steps] == ["print(3)\n"]
    assert sent(model, 1)[-1]["content"].startswith("Your reply was cut at the length limit")
    assert run.answer == "It is 3."


def test_a_reply_that_loops_to_the_length_limit_is_asked_again_sampled(ip, model):
    # Greedy decoding asked again writes the same loop: the re-ask is sampled (resample), and the
    # loop is not kept in the conversation.
    looped = Reply("Let me:\n```python\nview()\n" + "scroll_down()\n" * 40, finish_reason="length")
    ip.run_line_magic("config", "CodeAct.temperature = 0.0")
    try:
        model.reset(looped, code("print(3)"), "It is 3.")
        run = codeact(ip, model, "three", "none,+resample")
        assert [s.code for s in run.steps] == ["print(3)\n"] and run.answer == "It is 3."
        assert [r.get("temperature") for r in model.requests] == [0, 0.7, 0]
        assert run.follow_ups == ["cut", "looped"]
        asked = sent(model, 1)
        assert asked[-1]["content"].endswith(
            "Your reply wrote `scroll_down()` over and over until it was cut at the length limit, so "
            "nothing of it ran. Reply again with a short code block that writes each line once and "
            "prints what it gets: you will see the output before your next step.")
        assert all("scroll_down" not in m["content"] for m in asked[:-1])
        # Without the tactic, or cut without a loop: asked again greedily, the reply kept.
        for tactics, reply in (("none", looped), ("none,+resample", Reply("x = [1,", finish_reason="length"))):
            model.reset(reply, code("print(3)"), "It is 3.")
            run = codeact(ip, model, "three", tactics, "--new")
            assert [r.get("temperature") for r in model.requests] == [0, 0, 0]
            assert run.follow_ups == ["cut"] and sent(model, 1)[-2]["content"] == reply.text
    finally:
        ip.run_line_magic("config", "CodeAct.temperature = None")


def test_an_answer_cut_by_the_length_limit_is_not_taken(ip, model):
    model.reset(Reply("The answer is 12", finish_reason="length"),
                Reply("The answer is 12", finish_reason="length"))
    run = codeact(ip, model, "twelve", "none")
    assert run.status == "error" and run.answer is None and "length limit twice" in run.note


def test_a_reply_ending_inside_a_block_is_asked_again(ip, model):
    ip.user_ns.pop("unclosed", None)
    model.reset("Run:\n```python\nunclosed = 1\n", code("print(1)"), "One.")
    run = codeact(ip, model, "one", "none")
    assert "unclosed" not in ip.user_ns and run.answer == "One."
    assert "never closed" in sent(model, 1)[-1]["content"]


def test_a_reply_that_copies_the_loops_message_is_not_the_answer(ip, model):
    # Told its None is no answer, the small model wrote that message back as its answer.
    ip.run_line_magic("config", "CodeAct.temperature = 0.0")
    try:
        nothing = ("None is no answer: your code has not found the result yet. Print the values it "
                   "computed to see where the result is, then call final_answer with it.")
        model.reset(code("final_answer(None)"), nothing, code("print(12.5)"), "Answer: 12.5")
        run = codeact(ip, model, "Price of the wand?", "default")
        assert run.answer == "Answer: 12.5" and run.follow_ups[:3] == ["review", "nothing", "echo"]
        asked = sent(model, 2)
        assert asked[-1]["content"].endswith(
            "Your reply only copied my message back. Reply with a short code block to run, or with "
            "your answer in your own words.")
        assert all(m["content"] != nothing for m in asked if m["role"] == "assistant")  # not kept
        assert [r.get("temperature") for r in model.requests][:3] == [0, 0, 0.7]
        # A copy of an earlier message of the loop (the review, after a stall warning) is one too.
        review = "Before your answer is final, read the request again:\nPrice of the wand?"
        model.reset(code("print(12.5)"), "Answer: 13", code("print(12.5)"), review, "Answer: 12.5")
        run = codeact(ip, model, "Price of the wand?\nAnswer in the form 'Answer: ...'", "default", "--new")
        assert "echo" in run.follow_ups and run.answer == "Answer: 12.5"
        # Copied back a second time: the run ends with no answer, not with the loop's words...
        model.reset(code("final_answer(None)"), nothing, nothing)
        run = codeact(ip, model, "Price of the wand?", "default", "--new")
        assert run.status == "stopped" and run.answer is None and run.follow_ups[-1] == "echo"
        assert "copied the loop's message back twice" in run.note
        # ...unless its code handed final_answer() a value under review: that value stands.
        check = ("If 12.5 is exactly what the request asks for, in the form it asks (names, rounding, "
                 "units), send the same final_answer call again.")
        model.reset(code("final_answer(25 / 2)"), check, check)
        run = codeact(ip, model, "Price of the wand?", "default,+restate_formless", "--new")
        assert run.status == "answered" and run.answer == "12.5" and run.answer_step == 1
        assert run.follow_ups == ["review", "echo"]
        # Handed to final_answer() by code (M3ToolEval's web runs), the same: not taken, then the stop.
        model.reset(code("final_answer(None)"), code(f"final_answer({nothing!r})"),
                    code(f"message = {nothing!r}\nfinal_answer(message)"))
        run = codeact(ip, model, "Price of the wand?", "default", "--new")
        assert sent(model, 2)[-1]["content"].endswith(
            "final_answer() was given my message back, not your answer, so it was not taken. Call it "
            "with the result your code finds, or answer in your own words.")
        assert run.status == "stopped" and run.answer is None and len(run.steps) == 3
        assert run.follow_ups == ["review", "nothing", "echo"] and "copied the loop's message back twice" in run.note
        # The same code sent again is no confirmation of the None under review from an earlier step.
        as_code = code(f"final_answer({nothing!r})")
        model.reset(code("final_answer(None)"), as_code, as_code, code("print(12.5)"), code("final_answer(12.5)"))
        run = codeact(ip, model, "Price of the wand?", "default", "--new")
        assert run.status == "answered" and run.answer == "12.5" and "stall" in run.follow_ups
        # An answer confirmed in the same words, which the review quoted, is no copy; nor is one that
        # quotes the request.
        said = "The city with the largest total amount of sales this year is Rome."
        model.reset(code("print('Rome')"), said, said)
        run = codeact(ip, model, "Which city has the largest total amount of sales this year?", "default", "--new")
        assert run.follow_ups == ["review"] and run.answer == said
        # Nor is the review copied after the answer it confirms (the answer is what precedes it).
        model.reset(code("final_answer('@n[5]')"), lambda body: Reply(body["messages"][-1]["content"].removeprefix(
            "Execution result:\n")))
        run = codeact(ip, model, "How many? Format: @n[value]", "default", "--new")
        assert run.answer == "@n[5]" and run.follow_ups == ["review"]
    finally:
        ip.run_line_magic("config", "CodeAct.temperature = None")


def test_an_empty_reply_is_asked_again_once_then_is_an_error(ip, model):
    model.reset("", code("print(5)"), "Five.")
    run = codeact(ip, model, "five", "none")
    assert run.answer == "Five." and len(model.requests) == 3
    # At temperature 0 the same prompt would bring the same nothing: the model is told.
    assert sent(model, 1)[:-1] == model.requests[0]["messages"]
    assert "reply was empty" in sent(model, 1)[-1]["content"]
    model.reset("", "  ")
    run = codeact(ip, model, "five", "none")
    assert run.status == "error" and "empty reply" in run.note


def test_silence_when_asked_to_confirm_keeps_the_answer_the_code_handed_over(ip, model):
    model.reset(code("final_answer(6 * 7)"), "", "")
    run = codeact(ip, model, "six times seven", "none,+final_answer,+restate,+restate_formless")
    assert run.status == "answered" and run.answer == "42" and run.answer_step == 1
    assert len(model.requests) == 3


# ---- a run that goes on, and one run at a time ----

def test_a_run_can_go_on_with_a_finished_runs_conversation(ip, model):
    model.reset(code("x_prev = 20\nprint(x_prev)"), "It is 20.", "Then twice is 40.")
    ip.run_line_magic("config", "CodeAct.tactics = 'none'")
    first = codeact(ip, model, "set twenty", "none")
    ip.user_ns["_first"] = first
    assert ip.run_cell(f"import codeact_magic\nr = await codeact_magic.arun('and twice that?', model={MODEL!r}, "
                       f"api_base={model.url!r}, display=False, after=_first)").success
    messages = sent(model, 2)
    assert messages[:len(first.messages)] == first.messages
    assert messages[-1]["content"].startswith("and twice that?\n\nVariables already in the kernel")
    assert "x_prev: int = 20" in messages[-1]["content"]  # what the kernel holds now
    assert ip.user_ns["r"].answer == "Then twice is 40."


def test_a_second_run_at_once_in_one_kernel_is_refused(ip, model):
    model.reset(Reply(code("print('first')"), delay=0.5), "First done.")
    ip.run_line_magic("config", "CodeAct.tactics = 'none'")
    cell = (f"import asyncio, codeact_magic\nkw = dict(model={MODEL!r}, api_base={model.url!r}, display=False)\n"
            "a, b = await asyncio.gather(codeact_magic.arun('one', **kw), codeact_magic.arun('two', **kw))")
    assert ip.run_cell(cell).success
    a, b = ip.user_ns["a"], ip.user_ns["b"]
    assert a.status == "answered" and a.answer == "First done."
    assert b.status == "error" and "one at a time" in b.note and b.steps == []
    assert codeact_magic.last_run() is a
    assert len(model.requests) == 2  # the refused run asked the model nothing


def test_default_tactics_end_to_end(ip, model):
    model.reset(code("gcd = __import__('math').gcd(462, 1071)\nprint(gcd)"),
                code("final_answer(gcd)"), code("final_answer(gcd)"))
    run = codeact(ip, model, "gcd of 462 and 1071? Answer format: @gcd[value]", "default")
    # A request that states a form: the value handed over without it is sent back with the form;
    # the same call again confirms it (it is not a stall, and it does not run twice).
    assert "final_answer(answer)" in sent(model, 0)[0]["content"]
    assert "final_answer received: 21" in sent(model, 2)[-1]["content"]
    assert run.status == "answered" and run.answer_step == 2
    assert len(run.steps) == 2 and len(model.requests) == 3
    # A request that states no form: the value code handed over is the answer, in two calls.
    model.reset(code("gcd = __import__('math').gcd(462, 1071)\nprint(gcd)"), code("final_answer(gcd)"))
    run = codeact(ip, model, "gcd of 462 and 1071?", "default", "--new")
    assert run.status == "answered" and run.answer == "21" and len(model.requests) == 2


# ---- act first ----

def test_a_request_with_things_to_use_ends_by_asking_for_code_that_uses_them(ip, model):
    ip.user_ns["lookup_price"] = lambda item: 12.5
    try:
        model.reset(code("final_answer(lookup_price('wand'))"))
        codeact(ip, model, "Price of the wand? Please ONLY output the answer.", "none,+act_first")
        request = sent(model, 0)[-1]["content"]
        assert request.index("lookup_price") < request.index("Work on this with code first")
        assert request.rstrip().endswith("in the form the request asks.")
        assert "uses what is listed above" in request and "look at a result" not in request
        # look_first: the ask is to call what the request needs and print it before using it.
        model.reset(code("final_answer(lookup_price('wand'))"))
        codeact(ip, model, "Price of the wand? Please ONLY output the answer.", "none,+act_first,+look_first")
        request = sent(model, 0)[-1]["content"]
        assert "prints what it returns; look at a result before you use it." in request
        assert "uses what is listed above" not in request
        # plan_first: with functions listed, a numbered plan is asked for before the code.
        model.reset(code("final_answer(lookup_price('wand'))"))
        codeact(ip, model, "Price of the wand? Please ONLY output the answer.", "none,+act_first,+plan_first")
        request = sent(model, 0)[-1]["content"]
        assert request.index("lookup_price") < request.index("Begin your reply with a short numbered plan")
        assert "uses what is listed above" not in request
    finally:
        del ip.user_ns["lookup_price"]
    # plan_first without functions listed (data only): the usual ask, no plan.
    ip.user_ns["prices"] = {"wand": 12.5}
    try:
        model.reset(code("final_answer(prices['wand'])"))
        codeact(ip, model, "Price of the wand?", "none,+act_first,+plan_first")
        request = sent(model, 0)[-1]["content"]
        assert "uses what is listed above" in request and "numbered plan" not in request
    finally:
        del ip.user_ns["prices"]
    # Nothing to use (a fresh kernel): the request is left as it is.
    from codeact_magic.prompts import Prompts

    assert Prompts().request_message("hi", "", "", act_first=True, final_answer=True) == "hi"


# ---- code in another language ----

def test_code_in_another_language_is_not_taken_as_the_answer(ip, model, capsys):
    model.reset("I will list them.\n```bash\nls *.csv\n```",
                code("import glob\nprint(sorted(glob.glob('*.csv')))"), "There are no CSV files.")
    run = codeact(ip, model, "which csv files are here?", "none")
    assert run.status == "answered" and run.answer == "There are no CSV files." and len(run.steps) == 1
    told = sent(model, 1)[-1]["content"]
    assert told.startswith("Only Python runs here: your ```bash block did not run.")
    assert "told only Python runs" in capsys.readouterr().out


def test_a_script_in_another_language_asked_for_is_the_answer_once_said_again(ip, model):
    script = "Here it is:\n```bash\ntar czf backup.tgz data/\n```"
    model.reset(script, script)
    run = codeact(ip, model, "write me a bash one-liner that archives data/", "none")
    assert run.status == "answered" and run.answer == script and run.steps == []
    assert len(model.requests) == 2


def test_python_fences_with_other_tags_run():
    from codeact_magic.reply import Code, read_reply

    for opener in ("```py3", "```python title=\"x.py\"", "```Python3", "```ipython"):
        read = read_reply(f"Run it.\n{opener}\nprint(1)\n```", "stop")
        assert isinstance(read, Code) and read.code == "print(1)\n", opener


# ---- keep what the user gave ----

def test_code_that_defines_a_given_function_again_does_not_run_once(ip, model, capsys):
    ip.run_cell("def price_of(item):\n    'The price of an item in the shop.'\n    return {'wand': 12.5}[item]")
    try:
        model.reset(code("def price_of(item):\n    return 1.0\nprint(price_of('wand'))"),
                    code("print(price_of('wand'))"), "It costs 12.5.")
        run = codeact(ip, model, "What does the wand cost?", "none,+keep_given")
        assert run.status == "answered" and [s.output for s in run.steps] == ["12.5"]
        assert ip.user_ns["price_of"]("wand") == 12.5  # the user's function is still theirs
        told = sent(model, 1)[-1]["content"]
        assert told.startswith("Your code defines price_of again, but the kernel already has it")
        # ...with the code as it would be without the definition, to send back.
        assert told.endswith("```python\nprint(price_of('wand'))\n```\nSend it as your next step "
                             "(corrected if it needs to be).")
        assert "told to use it" in capsys.readouterr().out
        # A request that names the function may redefine it: it runs at once.
        model.reset(code("def price_of(item):\n    return 2.0"), "Done.")
        run = codeact(ip, model, "make price_of return 2.0 for everything", "none,+keep_given")
        assert len(run.steps) == 1 and ip.user_ns["price_of"]("wand") == 2.0
    finally:
        ip.user_ns.pop("price_of", None)


def test_a_given_function_defined_again_after_being_told_runs_without_the_definition(ip, model):
    ip.run_cell("def price_of(item):\n    'The price of an item in the shop.'\n    return {'wand': 12.5}[item]")
    mine = "def price_of(item):\n    return 1.0\nprint(price_of('wand'))"
    try:
        # Told once, the model sends its own version again: without drop_given it runs and
        # replaces the user's function; with it, the rest of the code runs with the given one.
        for tactics, output, kept in (("none,+keep_given", "1.0", False),
                                      ("none,+keep_given,+drop_given", "12.5", True)):
            model.reset(code(mine), code(mine), "It costs 12.5.")
            run = codeact(ip, model, "What does the wand cost?", tactics, "--new")
            assert [s.output for s in run.steps] == [output]
            assert (ip.user_ns["price_of"]("wand") == 12.5) is kept
            assert ("dropped" in run.follow_ups) is kept
            ip.run_cell("def price_of(item):\n    return {'wand': 12.5}[item]")
        # The step (the cell, and what the model reads as its own action) is the code that ran.
        assert run.steps[0].code == "print(price_of('wand'))\n"
        assert sent(model, 2)[-2]["content"].endswith("```python\nprint(price_of('wand'))\n```")
    finally:
        ip.user_ns.pop("price_of", None)


def test_the_given_short_functions_code_reaches_the_model_with_context_source(ip, model):
    assert ip.run_cell("def calculate_tariff(price, tariff_rate):\n"
                       "    return price * tariff_rate / 100\n").success
    try:
        for context, shown in (("rich", False), ("source", True)):
            model.reset(code("final_answer(calculate_tariff(200, 5))"))
            run = codeact(ip, model, "Tariff on 200 at 5 %?", f"none,+final_answer,context={context}")
            assert run.answer == "10.0"
            request = sent(model, 0)[-1]["content"]
            assert "calculate_tariff(price, tariff_rate): function" in request
            assert ("    def calculate_tariff(price, tariff_rate):\n        return price * tariff_rate / 100"
                    in request) is shown
    finally:
        del ip.user_ns["calculate_tariff"]


def test_code_that_types_out_given_data_again_does_not_run_once(ip, model, capsys):
    ip.run_cell("sales = [('Oslo', 120), ('Rome', 95), ('Oslo', 143)]")
    try:
        model.reset(code("sales = [('Oslo', 120), ('Rome', 95)]\nprint(sum(n for _, n in sales))"),
                    code("print(sum(n for _, n in sales))"), "The total is 358.")
        # The request names the data it is about: that does not allow a made-up copy.
        run = codeact(ip, model, "What is the total of `sales`?", "none,+keep_given")
        assert run.status == "answered" and [s.output for s in run.steps] == ["358"]
        assert len(ip.user_ns["sales"]) == 3  # the user's data is still theirs
        told = sent(model, 1)[-1]["content"]
        assert told.startswith("Your code defines sales again, but the kernel already has it")
        assert told.endswith("```python\nprint(sum(n for _, n in sales))\n```\nSend it as your next step "
                             "(corrected if it needs to be).")
        # Work on the given data is not held back.
        model.reset(code("sales = [s for s in sales if s[0] == 'Oslo']\nprint(len(sales))"), "Two.")
        run = codeact(ip, model, "Keep only Oslo's rows of sales.", "none,+keep_given")
        assert len(run.steps) == 1 and len(ip.user_ns["sales"]) == 2
    finally:
        ip.user_ns.pop("sales", None)


def test_code_that_types_out_values_nothing_showed_does_not_run_once(ip, model, capsys):
    # A tool to read the shop's page; the model types prices from memory instead of calling it.
    ip.run_cell("def view():\n    'The page the browser shows.'\n    return 'Wand: $12.40  Potion: $3.15'")
    guessed = code('prices = {"wand": 15.99, "potion": 7.99}\nprint(sum(prices.values()))')
    try:
        model.reset(guessed, code("print(view())"), code("final_answer(12.40 + 3.15)"))
        run = codeact(ip, model, "What do the wand and the potion cost together on the shop's page?",
                      "none,+final_answer,+unseen_data")
        assert run.status == "answered" and run.answer == "15.55"
        assert [s.code for s in run.steps] == ["print(view())\n", "final_answer(12.40 + 3.15)\n"]
        assert "prices" not in ip.user_ns  # the guessed code never ran
        assert run.follow_ups == ["unseen"]
        assert sent(model, 1)[-1]["content"] == (
            "Your code types out values that appear nowhere in the request, in what it lists or in any "
            "output: 15.99, 7.99. Written from memory, they are guesses, so that code did not run. Get "
            "them with code from what the request gives (call its functions, read its files or "
            "variables) and print them before you use them. If the request asks for made-up example "
            "data, send the same code again.")
        assert "told to get them with code" in capsys.readouterr().out
        # Values an output showed are not guesses; nor are a dict's keys, nor small counts.
        model.reset(code("print(view())"), code('p = {"wand": 12.40, "potion": 3.15, "n": 2}\n'
                                               'final_answer(p["wand"] + p["potion"])'))
        run = codeact(ip, model, "What do the wand and the potion cost together?",
                      "none,+final_answer,+unseen_data", "--new")
        assert run.follow_ups == [] and run.answer == "15.55" and len(run.steps) == 2
        # Told once: the same code again runs (the request may ask for made-up data).
        model.reset(guessed, guessed, "Made up: 23.98.")
        run = codeact(ip, model, "Make up two prices and add them.", "none,+unseen_data", "--new")
        assert run.follow_ups == ["unseen"] and [s.output for s in run.steps] == ["23.98"]
        # Without the tactic, the guess runs.
        model.reset(guessed, "23.98")
        run = codeact(ip, model, "What do the wand and the potion cost together?", "none", "--new")
        assert run.follow_ups == [] and [s.output for s in run.steps] == ["23.98"]
    finally:
        for name in ("view", "prices", "p"):
            ip.user_ns.pop(name, None)


def test_an_answer_with_numbers_no_step_showed_is_not_taken_once(ip, model, capsys):
    request = "What are the mean and the skewness of [3, 1, 4, 1, 5]? Answer as @mean[m], @skew[s]."
    mean = code("xs = [3, 1, 4, 1, 5]\nprint(sum(xs) / len(xs))")
    skew = code("import scipy.stats\nprint(round(float(scipy.stats.skew(xs)), 4))")
    try:
        # In words: the mean was computed, the skewness made up. Told, the model computes it.
        model.reset(mean, "@mean[2.8], @skew[-0.1234]", skew, "@mean[2.8], @skew[0.0352]")
        run = codeact(ip, model, request, "none,+unseen_answer")
        assert run.status == "answered" and run.answer == "@mean[2.8], @skew[0.0352]"
        assert [s.output for s in run.steps] == ["2.8", "0.0352"] and run.follow_ups == ["unshown"]
        assert run.note is None
        told = sent(model, 2)
        assert told[-2] == {"role": "assistant", "content": "@mean[2.8], @skew[-0.1234]"}
        assert told[-1]["content"] == (
            "Your answer gives -0.1234, which no output has shown: a value that was not computed is "
            "a guess, so that answer was not taken. Compute it with code and print it; then give "
            "the whole answer.")
        assert "answered with numbers nothing showed: told to compute them" in capsys.readouterr().out
        # Typed into final_answer() as a literal: not taken either; the step's own code does not
        # count as showing it. A value the code computed is never held back.
        model.reset(mean, code('final_answer("@mean[2.8], @skew[-0.1234]")'), skew,
                    code('final_answer(f"@mean[2.8], @skew[{round(float(scipy.stats.skew(xs)), 4)}]")'))
        run = codeact(ip, model, request, "none,+final_answer,+unseen_answer", "--new")
        assert run.status == "answered" and run.answer == "@mean[2.8], @skew[0.0352]"
        assert run.follow_ups == ["unshown"] and len(run.steps) == 4
        assert sent(model, 2)[-1]["content"].endswith(
            "Your answer gives -0.1234, which no output has shown: a value that was not computed is "
            "a guess, so that answer was not taken. Compute it with code and print it; then give "
            "the whole answer through final_answer().")
        # Typed around a field the code computed (DABench 375, in a straight run): the computed
        # slot is no cover for the typed one; told, the model computes it. What final_answer()
        # received from that step does not count as shown either.
        model.reset(mean, code('final_answer(f"@mean[{sum(xs) / len(xs)}], @skew[-0.1234]")'), skew,
                    code('final_answer(f"@mean[{sum(xs) / len(xs)}], @skew[0.0352]")'))
        run = codeact(ip, model, request, "none,+final_answer,+unseen_answer", "--new")
        assert run.status == "answered" and run.answer == "@mean[2.8], @skew[0.0352]"
        assert run.follow_ups == ["unshown"] and run.answer_step == 4 and run.note is None
        assert "Your answer gives -0.1234, which no output has shown" in sent(model, 2)[-1]["content"]
        # Numbers the outputs showed, to the answer's precision, are taken at once.
        model.reset(mean, "The mean is 2.80.")
        run = codeact(ip, model, "Mean of [3, 1, 4, 1, 5]?", "none,+unseen_answer", "--new")
        assert run.follow_ups == [] and run.answer == "The mean is 2.80."
        # So is a value the code computed and handed to final_answer(), given again in words (shown
        # the form's message); one the code typed in is not.
        form = "Mean of [3, 1, 4, 1, 5]? Answer format: @mean[value]"
        model.reset(code("final_answer(sum(xs) / len(xs))"), "@mean[2.8]")
        run = codeact(ip, model, form, "none,+final_answer,+answer_form,+unseen_answer", "--new")
        assert run.follow_ups == ["form"] and run.answer == "@mean[2.8]"
        model.reset(code("final_answer(2.8)"), "@mean[2.8]")
        run = codeact(ip, model, form, "none,+final_answer,+answer_form,+unseen_answer", "--new")
        assert run.follow_ups == ["unshown"] and run.answer == "@mean[2.8]" and len(model.requests) == 2
        # Told once: the same answer again is the model's to give (it may be what the user wants),
        # and the user is told what in it nothing computed.
        model.reset(mean, "@mean[2.8], @skew[-0.1234]", "@mean[2.8], @skew[-0.1234]")
        run = codeact(ip, model, request, "none,+unseen_answer", "--new")
        assert run.follow_ups == ["unshown"] and run.answer == "@mean[2.8], @skew[-0.1234]"
        assert run.note == ("-0.1234 in this answer appears in no output: no step computed it, also "
                            "after the model was asked to.")
        assert run.note in capsys.readouterr().out
        model.reset(mean, code('final_answer("@skew[-0.1234]")'), code('final_answer(f"@skew[-0.1234]")'))
        run = codeact(ip, model, request, "none,+final_answer,+unseen_answer", "--new")
        assert run.follow_ups == ["unshown"] and run.answer == "@skew[-0.1234]" and run.answer_step == 3
        assert run.note.startswith("-0.1234 in this answer appears in no output")
        # A question answered without any step is not held to outputs; nor is any answer without
        # the tactic.
        model.reset("Pi is about 3.14159.")
        run = codeact(ip, model, "What is pi, roughly?", "none,+unseen_answer", "--new")
        assert run.follow_ups == [] and run.answer == "Pi is about 3.14159."
        model.reset(mean, "@mean[2.8], @skew[-0.1234]")
        run = codeact(ip, model, request, "none", "--new")
        assert run.follow_ups == [] and run.answer == "@mean[2.8], @skew[-0.1234]"
    finally:
        for name in ("xs", "scipy"):
            ip.user_ns.pop(name, None)


def test_an_answer_that_copies_the_restated_request_is_cut_there(ip, model):
    model.reset(code("x = 0.176\nprint(x)"), code("final_answer(0.176)"),
                code('final_answer("0.176\\n\\nBefore your answer is final, read the request again:\\ncorr?")'))
    run = codeact(ip, model, "corr?", "none,+final_answer,+restate")
    assert run.status == "answered" and run.answer == "0.176"
