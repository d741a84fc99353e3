"""The pieces the loop is made of, one at a time."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from codeact_magic.capture import BoundedText
from codeact_magic.executor import Execution
from codeact_magic.inexact_floats import InexactFloat, inexact_floats
from codeact_magic.magic import Options, parse_options, transform
from codeact_magic.observation import NO_OUTPUT, clean, observe
from codeact_magic.prompts import PRESETS, Prompts, preset_for, with_overrides
from codeact_magic.redact import MARKER, redact, secret_values
from codeact_magic.reply import Code, Cut, parse_reply, read_reply
from codeact_magic.run import Step, StepError, Usage
from codeact_magic.stall import repeats_last_code, same_error_streak
from codeact_magic.answer_numbers import unshown_numbers
from codeact_magic.unseen_values import unseen_values
from codeact_magic.unused_numbers import UnusedNumber, unused_numbers


# ---- replies ----

@pytest.mark.parametrize("tag", ["python", "py", "ipython", "Python", ""])
def test_first_runnable_block_is_cut_after_its_fence(tag):
    reply = f"Compute it.\n```{tag}\nprint(1)\n```\n```output\n1\n```\nThe answer is 1."
    parsed = parse_reply(reply)
    assert parsed.code == "print(1)\n"
    assert parsed.text == f"Compute it.\n```{tag}\nprint(1)\n```"


def test_a_fence_opening_an_output_block_ends_the_code_block():
    # Qwen Coder writes its invented output right after the code, without closing the code first.
    parsed = parse_reply("Done.\n```python\nfinal_answer(s)\n```output\nCIGAM\n```\nIt is CIGAM.")
    assert parsed.closed and parsed.code == "final_answer(s)\n"
    assert parsed.text == "Done.\n```python\nfinal_answer(s)\n```"
    assert read_reply("```python\nx = 1\n```output", "stop") == Code(parse_reply("```python\nx = 1\n```"))


def test_a_block_left_open_after_a_whole_final_answer_call_is_whole():
    reply = "The output shows it.\n```python\nfinal_answer(reversed_string)"
    assert read_reply(reply, "stop") == Code(parse_reply(reply + "\n```"))
    # Not when cut by the token limit, nor a call cut in its middle, nor other code.
    assert isinstance(read_reply(reply, "length"), Cut)
    assert isinstance(read_reply("```python\nfinal_answer(f'{x}", "stop"), Cut)
    assert isinstance(read_reply("```python\nx = 1\nprint(x)", "stop"), Cut)


def test_blocks_in_other_languages_are_prose():
    parsed = parse_reply("Run this in a shell:\n```bash\nls\n```\nDone.")
    assert parsed.code is None and parsed.text.endswith("Done.")
    parsed = parse_reply("```text\nnote\n```\n```python\nx = 1\n```")
    assert parsed.code == "x = 1\n"


def test_reply_without_code_is_a_final_answer():
    assert parse_reply("It is **42**.").code is None


def test_unclosed_block_still_yields_its_code():
    parsed = parse_reply("```python\nx = 1\ny = 2")
    assert parsed.code == "x = 1\ny = 2\n" and not parsed.closed


def test_fence_inside_code_is_not_a_close():
    parsed = parse_reply('````python\ns = """\n```\n"""\n````\nafter')
    assert parsed.code == 's = """\n```\n"""\n'


# ---- bounded capture ----

def test_bounded_text_keeps_head_and_tail_and_counts_the_cut():
    buf = BoundedText(100)
    for i in range(100_000):
        buf.append(f"{i}\n")
    out = buf.text(100)
    assert out.startswith("0\n1\n") and out.endswith("99999\n")
    assert "characters cut" in out and len(out) < 200
    assert buf.total == sum(len(f"{i}\n") for i in range(100_000))


def test_bounded_text_short_text_is_whole():
    buf = BoundedText(100)
    buf.append("hello")
    assert buf.text() == "hello"


# ---- secrets ----

def test_secret_looking_environment_values_are_redacted():
    env = {"OPENAI_API_KEY": "sk-abcdef123456", "GITHUB_TOKEN": "ghp_zzzzzzzz", "HOME": "/root/home",
           "DB_PASSWORD": "hunter2hunter2", "FLAG_TOKEN": "1"}
    values = secret_values(env, extra=["key-in-use-999"])
    text = "sk-abcdef123456 ghp_zzzzzzzz /root/home hunter2hunter2 key-in-use-999 1"
    assert redact(text, values) == f"{MARKER} {MARKER} /root/home {MARKER} {MARKER} 1"


def test_values_typed_out_are_guesses_only_when_nothing_showed_them():
    request = "The shop lists the wand at $1,480 and 10% off the potion. Who is in Sales?"
    # Typed prices and names that nothing showed: guesses, as the code writes them.
    assert unseen_values("prices = {'wand': 15.99, 'potion': -7.5}", request) == ["15.99", "-7.5"]
    assert unseen_values("a = 15.99\nb = 20.99\nprint(a + b)", request) == ["15.99", "20.99"]
    assert unseen_values("sales = ['John', 'Jane']", request) == ["'John'", "'Jane'"]
    # What the request shows (1,480; 10% as 0.1; "Sales") is not a guess, nor is an output's value.
    assert unseen_values("wand, off = 1480, 0.10\nprint(wand * (1 - off))", request) == []
    assert unseen_values("team = ['sales', 'John']", request + "\nJohn Smith") == []
    # One constant is a parameter; small counts, a dict's keys and a column selection are no data.
    assert unseen_values("alpha = 0.05\nprint(x[1, 2])", request) == []
    assert unseen_values("row = {'name': 'John', 'department': 'Sales'}", request + "\nJohn Smith") == []
    assert unseen_values("df[['Income', 'Balance']].mean()", request) == []
    assert unseen_values("sizes = [1, 2, 3, 10]", request) == []
    assert unseen_values("prices = [15.99,", request) == []  # does not parse: not judged here


def test_an_answers_numbers_are_unshown_only_when_nothing_held_them_to_their_precision():
    shown = "@shapiro_w[0.954321], p = 0.0027\nshare 0.8712, total 1,234,567, 1.49e-05, on 2024-01-31"
    # The slots a step never computed, as the answer writes them, once each.
    assert unshown_numbers("@shapiro_w[0.9543], @p_value[0.0027], @skewness[-0.1234], "
                           "@kurtosis[1234.56], again -0.1234", shown) == ["-0.1234", "1234.56"]
    # Rounded to the answer's precision, a share said in percent, a scale word, an exponent, a date.
    assert unshown_numbers("0.95 and 0.954 (87 %, 87.12%), 1.2 million or 1,234,567; 1.5e-05; "
                           "2024-01-31", shown) == []
    # Not rounded that way: 0.96 is not 0.954321; 88 % is not 0.8712; 1.3 million is no 1,234,567.
    assert unshown_numbers("0.96, 88 %, 1.3 million", shown) == ["0.96", "88", "1.3"]
    # Small whole numbers are counts (and 0.0 may be what was computed); no number, nothing to say.
    assert unshown_numbers("2 of 3 groups, 0.0 left, 10 rows", "") == []
    assert unshown_numbers("The distribution is not normal.", "") == []


def test_the_numbers_of_a_request_no_code_used_are_its_quantities_above_ten():
    request = ("Sell 1,000 units of ore and 250 of spice at 12.5 each, 8% tariff, the top 3 routes; "
               "read /data/2019/sales.csv. Answer format: @total[value] between 0 and 500000")
    form = "Answer format: @total[value] between 0 and 500000"
    assert unused_numbers(request, ["print(12.5 * 3)"], form) == [
        UnusedNumber("1,000", "Sell 1,000 units of ore and"), UnusedNumber("250", "of ore and 250 of spice at 12.5")]
    # Used as written, as a range's end, or as a share; a decimal, a percentage, a small count, a
    # path and the answer's form are never asked about.
    assert unused_numbers(request, ["n = 1_000", "for i in range(1, 251): pass"], form) == []
    assert unused_numbers("Split 70/30 for the 15 features.", ["train_test_split(X, test_size=0.3)"]) == [
        UnusedNumber("15", "70/30 for the 15 features")]
    assert unused_numbers(request, ["x = 1e3", "y = 250"], form) == []
    # A rate's 2.0 is no share of "200 units"; an example's numbers show a shape; digits joined by a
    # dash or a parenthesis are a phone number or a date, not quantities.
    trade = "Export 200 units at 120 each, rate 2.0. List them. Example: 'Answer: [1000, 2000]'"
    assert [n.text for n in unused_numbers(trade, ["convert(120, 2.0)"])] == ["200"]
    assert unused_numbers("Whose number is (719)639-9091x6998, called on 2023-12-25 (e.g., 555)?", []) == []


def test_whole_numbers_computed_as_floats_past_two_to_the_53_are_found_with_their_exact_form():
    import math
    assert inexact_floats("import math\ns = sum(int(d) for d in str(math.pow(2, 100)))") == [
        InexactFloat("math.pow(2, 100)", 2.0**100, "2 ** 100")]
    # True division of ints whose quotient is whole, float() of an int, a float literal in a power;
    # operands from the kernel's ints and pure functions of ints.
    found = inexact_floats("a = math.factorial(30) / math.factorial(10)\nb = float(10**20)\n"
                           "c = 2.0 ** 64\nd = n / 2", {"n": 2**60})
    assert [(f.expression, f.exact) for f in found] == [
        ("math.factorial(30) / math.factorial(10)", "math.factorial(30) // math.factorial(10)"),
        ("float(10**20)", "10**20"), ("2.0 ** 64", "2 ** 64"), ("n / 2", "n // 2")]
    assert inexact_floats("x = pow(2, 100)", {"pow": math.pow})[0].exact == "2 ** 100"
    # Within float's exact range, a quotient that is not whole, the builtin pow of ints (an int),
    # floor division, operands not worked out (a call of the user's, a float variable): nothing.
    assert inexact_floats("a = math.pow(2, 52)\nb = math.factorial(30) / (math.factorial(10) * "
                          "math.factorial(20))\nc = 10**20 / 3\nd = pow(2, 100)\ne = 2**100 // 3\n"
                          "f = len(x) / 2\ng = m / 2\nh = math.pow(2, 10 ** 9)",
                          {"pow": pow, "m": 2.0**60}) == []
    # Too large for a float: the step raised OverflowError; what is exact is said all the same.
    assert inexact_floats("x = 10**400 / 10")[0].value == math.inf
    assert inexact_floats("x = math.pow(2,") == []


def test_the_values_of_a_failed_line_never_show_a_secret():
    from codeact_magic.failing_line import failing_line
    from codeact_magic.failing_values import failing_values
    code = "api_token = 'x' * 30\nheaders = {'Authorization': 'sk-proj-' + 'A' * 40}\nheaders['Host'] + api_token\n"
    scope: dict = {}
    try:
        exec(compile(code, "<step-secret>", "exec"), scope)
    except KeyError as e:
        error = e
    import linecache
    linecache.cache["<step-secret>"] = (len(code), None, code.splitlines(True), "<step-secret>")
    values = failing_values(error, failing_line(error, code, before_exec=False), {})
    assert [v.text for v in values.values] == [
        "headers: dict (value hidden: it holds what looks like a secret)",
        "api_token: str (value hidden: the name looks secret)"]


# ---- observations ----

def _execution(stdout="", stderr="", error=None, result=None, **kw) -> Execution:
    out, err = BoundedText(20_000), BoundedText(20_000)
    out.append(stdout)
    err.append(stderr)
    return Execution(execution_count=1, stdout=out, stderr=err, error=error, result=result, **kw)


def test_observation_of_silent_step_says_so():
    assert observe(_execution(), limit=1000, secrets=[], timeout=None) == NO_OUTPUT


def test_observation_strips_ansi_and_carriage_return_redraws():
    text = observe(_execution(stdout="\x1b[31mred\x1b[0m\n10%\r50%\r100%\n"), limit=1000,
                   secrets=[], timeout=None)
    assert text == "red\n100%"


def test_observation_is_capped_with_head_and_tail():
    text = observe(_execution(stdout="".join(f"line {i}\n" for i in range(100_000))),
                   limit=1000, secrets=[], timeout=None)
    assert len(text) < 1100
    assert text.startswith("line 0\n") and "line 99999" in text and "characters cut" in text


def test_observation_of_error_keeps_the_exception_line():
    try:
        {}["missing"]
    except KeyError as exc:
        error = exc
    text = observe(_execution(stdout="before\n", error=error), limit=1000, secrets=[], timeout=None)
    assert text.startswith("before") and text.rstrip().endswith("KeyError: 'missing'")
    assert "test_units.py" in text  # the step's own frames stay


def test_what_code_types_into_final_answer_is_told_from_what_it_computes():
    from codeact_magic.final_answer import typed_text, without_answer_calls
    code = 'w = 0.95\nfinal_answer(f"@w[{w:.4f}], @skew[-0.1234]")\nprint(w)'
    assert typed_text(code) == "@w[\n], @skew[-0.1234]"
    assert typed_text('final_answer("Answer: 651.2")') == "Answer: 651.2"
    assert typed_text("final_answer(12.5)") == "12.5" and typed_text("final_answer(total)") == ""
    assert typed_text("final_answer(") == ""  # does not parse: nothing to tell
    assert without_answer_calls(code) == "w = 0.95\n\nprint(w)"
    assert without_answer_calls('x = "é"; final_answer(\n    f"{x} 1.5")  # done') == 'x = "é";   # done'


def test_the_kernels_names_for_its_cells_are_shown_as_cell():
    from codeact_magic.observation import stable_cell_names
    # IPython counts the cells run before; ipykernel names the process. Both, as a warning says them.
    assert stable_cell_names('<ipython-input-19-01f1eee95c79>:7: Pandas4Warning: inplace\n'
                             '  File "/tmp/ipykernel_4242/3101452.py", line 3, in <module>') == (
        '<cell>:7: Pandas4Warning: inplace\n  File "<cell>", line 3, in <module>')
    # A library's file is where it is.
    path = '  File "/usr/lib/python3/site-packages/pandas/core/frame.py", line 4330'
    assert stable_cell_names(path) == path


def test_observation_labels_parts_only_when_several():
    text = observe(_execution(stdout="out\n", result="42"), limit=1000, secrets=[], timeout=None)
    assert "[stdout]\nout" in text and "[result]\n42" in text
    assert observe(_execution(result="42"), limit=1000, secrets=[], timeout=None) == "42"


def test_clean_leaves_plain_text_alone():
    assert clean("a\nb\n") == "a\nb\n"


# ---- stalls ----

def test_same_code_twice_is_a_stall_whitespace_aside():
    steps = [Step(code="x = 1\n\nprint(x)\n")]
    assert repeats_last_code("x = 1\nprint(x)   \n", steps)
    assert not repeats_last_code("print(x)", steps)


def test_the_answer_form_a_request_gives_is_found_with_its_literal_parts():
    from codeact_magic.answer_form import find

    form = find("Mean and median of price?\n\nConstraints: two decimals.\n\nAnswer format: "
                "@price_mean[mean] @price_median[median], each rounded to two decimals.\n\nData: a.csv")
    assert form.text.startswith("Answer format: @price_mean[mean]")
    assert form.markers == ("@price_mean[", "@price_median[")
    assert form.missing("@price_mean[3.10] and the median is 2") == ["@price_median["]
    # A quoted label that starts the answer (M3ToolEval's rule), on a line of its own.
    rule = find("Find the cheapest flight.\nWhen you are done, output the result using 'Answer: your answer'")
    assert rule.markers == ("Answer:",) and rule.missing("Answer: 120") == []
    # A form in prose, or brackets that are not a stated form: nothing to check.
    assert find("Total sales, rounded to two decimals, in dollars?") is None
    assert find("Sum df_sales[amount] by city.") is None


def test_the_parts_of_an_answer_that_hold_no_value_are_found_but_an_empty_list_is_not():
    from codeact_magic.answer_form import find

    form = find("Answer format: @mean_null[mean] @mean_notnull[mean] @pvalue[p], two decimals.")
    assert form.empty_parts("@mean_null[4.26]\n@mean_notnull[43.31]\n@pvalue[nan]") == ["@pvalue[nan]"]
    assert form.empty_parts("@mean_null[NaN], @mean_notnull[ None ], @pvalue['<NA>']") == [
        "@mean_null[NaN]", "@mean_notnull[ None ]", "@pvalue['<NA>']"]
    # Values, an empty slot (no outliers: an empty list may be the answer), words that hold "nan".
    assert form.empty_parts("@mean_null[4.26] @mean_notnull[] @pvalue[nan-free 0.01]") == []
    assert form.empty_parts("@other[nan] nan") == []  # not a part of this form
    rule = find("Find the cheapest flight.\nWhen you are done, output the result using 'Answer: your answer'")
    assert rule.empty_parts("Answer: None") == ["Answer: None"]
    assert rule.empty_parts("Answer: None of the flights is cheaper than 120") == []


def test_one_value_is_shown_put_in_the_form_but_no_answer_at_all_is_not():
    from codeact_magic.answer_form import filled_form

    assert filled_form("12.5", ["@price["]) == "@price[12.5]"
    assert filled_form("'Paris'", ["Answer:"]) == "Answer: Paris"
    # One number with its unit: the number.
    assert filled_form("20 outliers", ["@outlier_count["]) == "@outlier_count[20]"
    assert filled_form("12.89 %", ["@mean_value["]) == "@mean_value[12.89]"
    assert filled_form("-1.5e-3 per day", ["Answer:"]) == "Answer: -1.5e-3"
    # Two values, a sentence around a number, or no value (what a lookup that missed hands over):
    # for the model to say.
    assert filled_form("1.0 2.0", ["@price["]) is None
    assert filled_form("The top 3 cities are in Asia", ["@region["]) is None
    assert filled_form("Not Normal", ["@result["]) is None
    assert filled_form("0.5 [normal]", ["@p["]) is None
    # The values of one final_answer() call, one per slot, in the form's order.
    assert filled_form("Not Normal 0.000", ["@result[", "@p_value["], ("Not Normal", "0.000")) == \
        "@result[Not Normal] @p_value[0.000]"
    assert filled_form("a b c", ["@result[", "@p_value["], ("a", "b", "c")) is None
    assert filled_form("a None", ["@result[", "@p_value["], ("a", "None")) is None
    for nothing in ("None", "nan", "", "''", "[]"):
        assert filled_form(nothing, ["@price["]) is None and filled_form(nothing, ["Answer:"]) is None


def test_an_image_is_told_by_kind_and_size_and_sent_downscaled():
    import base64
    import io

    from PIL import Image

    from codeact_magic.images import StepImage, downscaled, from_bundle, parts

    def encoded(fmt: str, size: tuple[int, int]) -> str:
        out = io.BytesIO()
        Image.new("RGB", size, "red").save(out, fmt)
        return base64.b64encode(out.getvalue()).decode()

    for fmt, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif")):
        image = from_bundle({"text/plain": "<Figure>", mime: encoded(fmt, (640, 480))})
        assert image.mime == mime and image.describe() == f"[{mime} 640×480 shown to the user]"
    small = StepImage("image/png", encoded("PNG", (640, 480)))
    assert downscaled(small) is small
    big = downscaled(StepImage("image/jpeg", encoded("JPEG", (4000, 1000))))
    assert big.mime == "image/png" and big.size == (1024, 256)
    sent = parts("Execution result:", [small] * 5)
    assert sent[0] == {"type": "text", "text": "Execution result:"} and len(sent) == 1 + 3  # a few
    assert from_bundle({"text/plain": "x"}) is None


def _raised(code: str) -> BaseException:
    import linecache

    # As IPython does for a cell: its lines are where a traceback finds them.
    linecache.cache["<step>"] = (len(code), None, code.splitlines(True), "<step>")
    try:
        exec(compile(code, "<step>", "exec"), {})
    except BaseException as exc:  # noqa: BLE001 - the error is the value under test
        return exc
    raise AssertionError("the code ran")


def test_the_failing_line_is_the_line_of_the_step_that_raised():
    from codeact_magic.failing_line import FailingLine, failing_line

    code = "import json\n\ndef parse(s):\n    return json.loads(s)\n\nrows = ['1', 'x']\nvalues = [parse(r) for r in rows]\n"
    # Inside a function the step defines: the line in it; the library's own frames are not the step's.
    assert failing_line(_raised(code), code, before_exec=False) == FailingLine(4, "return json.loads(s)")
    assert failing_line(_raised("a = 1\nb = a + None"), "a = 1\nb = a + None", before_exec=False) \
        == FailingLine(2, "b = a + None")
    try:
        compile("x = 1\nprint(x))", "<step>", "exec")
    except SyntaxError as exc:
        assert failing_line(exc, "x = 1\nprint(x))", before_exec=True) == FailingLine(2, "print(x))")
    # A traceback whose lines are not this code's (another cell's function): no line is named.
    assert failing_line(_raised("1/0"), "y = 2", before_exec=False) is None
    assert failing_line(None, "y = 2", before_exec=False) is None


def test_a_failing_line_left_as_it_was_is_noticed():
    from codeact_magic.failing_line import FailingLine
    from codeact_magic.stall import unchanged_failing_line

    at = FailingLine(1, "x = int('4 kg')")
    e = StepError("ValueError", "invalid literal", at)
    assert unchanged_failing_line([Step("a", error=e), Step("b", error=e)]) == at
    assert unchanged_failing_line([Step("a", error=e)]) is None
    other = StepError("ValueError", "invalid literal", FailingLine(1, "x = int('4')"))
    assert unchanged_failing_line([Step("a", error=e), Step("b", error=other)]) is None
    assert unchanged_failing_line([Step("a", error=e), Step("b", error=StepError("TypeError", "", at))]) is None
    assert unchanged_failing_line([Step("a"), Step("b", error=e)]) is None


def test_same_error_three_times_is_a_stall():
    e = StepError("NameError", "name 'y' is not defined")
    assert not same_error_streak([Step("a", error=e), Step("b", error=e)])
    assert same_error_streak([Step("a", error=e), Step("b", error=e), Step("c", error=e)])
    assert not same_error_streak([Step("a", error=e), Step("b"), Step("c", error=e)])


# ---- options and the transformer ----

def test_options_parse():
    assert parse_options("--model m --api-base http://x/v1 --max-steps 3 --timeout 2.5 --new") == Options(
        "m", "http://x/v1", 3, 2.5, True)
    assert parse_options("") == Options()


@pytest.mark.parametrize("line", ["--bogus", "--max-steps zero", "--max-steps 0", "--timeout -1",
                                  "--model", "stray words", "--model 'unclosed"])
def test_bad_options_are_a_usage_error(line):
    with pytest.raises(UsageError, match="usage: %%codeact"):
        parse_options(line)


def test_transform_rewrites_only_codeact_cells():
    out = transform(["\n", "%%codeact --max-steps 2\n", "sum 'a' and \"b\"\n", "two lines\n"])
    assert out == ["await __import__('codeact_magic.magic').magic.run_magic_cell("
                   "'--max-steps 2', 'sum \\'a\\' and \"b\"\\ntwo lines\\n')\n"]
    assert transform(["%%codeactx\n"]) == ["%%codeactx\n"]
    assert transform(["x = 1\n"]) == ["x = 1\n"]


# ---- prompts ----

def test_presets_and_overrides():
    assert preset_for("openai/qwen2.5-coder-1.5b").stop == ("<|im_start|>",)
    assert preset_for("openai/gpt-4o-mini") is PRESETS["default"]
    with pytest.raises(ValueError, match="unknown prompt preset"):
        preset_for("m", "nope")
    p = with_overrides(Prompts(), system="Tools:{python_modules}!", execution_output="")
    assert p.system_message("import x") == "Tools:\nimport x\n!"
    assert p.execution_output == Prompts().execution_output
    assert p.feedback("{braces} kept", failed=False).endswith("{braces} kept")


def test_default_system_prompt_has_a_one_shot_example():
    system = Prompts().system_message()
    assert "```python" in system and "Execution result:" in system and "{python_modules}" not in system


def test_usage_adds_and_unknown_cost_stays_unknown():
    u = Usage(1, 2, 0.5)
    u.add(Usage(3, 4, None))
    assert (u.prompt_tokens, u.completion_tokens, u.cost, u.total_tokens) == (4, 6, None, 10)


# ---- what a whole reply is ----

def test_a_closed_block_is_code_whatever_the_finish_reason():
    from codeact_magic.reply import Code, read_reply

    for reason in ("stop", "length", "code", None):
        assert isinstance(read_reply("Run:\n```python\nx = 1\n```", reason), Code)


def test_replies_that_end_early_are_cut_never_code_nor_answer():
    from codeact_magic.reply import Answer, Cut, Empty, read_reply

    assert read_reply("The answer is 4", "length") == Cut("The answer is 4", "length")
    assert read_reply("Let me:\n```python\nx = [1,", "length") == Cut("Let me:\n```python\nx = [1,", "length")
    # litellm says "stop" for a stream that simply ended: the open fence tells the cut.
    assert read_reply("Let me:\n```python\nx = 1", "stop").reason == "unclosed"
    assert read_reply("Output:\n```text\nhalf", "stop").reason == "unclosed"
    assert read_reply("It is **42**.", "stop") == Answer("It is **42**.")
    assert read_reply("  \n", "stop") == Empty()


def test_a_final_answer_call_without_a_fence_is_code():
    from codeact_magic.reply import Answer, Code, read_reply

    reply = read_reply("The output shows it.\nfinal_answer('CIGAM TCAEDOC')", "stop")
    assert isinstance(reply, Code) and reply.code == "final_answer('CIGAM TCAEDOC')\n"
    assert reply.parsed.text == "The output shows it.\n```python\nfinal_answer('CIGAM TCAEDOC')\n```"
    assert isinstance(read_reply("Call final_answer(x) when done.", "stop"), Answer)
    assert isinstance(read_reply("final_answer(oops", "stop"), Answer)


# ---- tactics ----

def test_tactics_specs():
    from codeact_magic.tactics import DEFAULT, NONE, describe, parse

    assert parse(None) == DEFAULT and parse("default") == DEFAULT and parse("none") == NONE
    t = parse("none,+final_answer,require_code=always")
    assert t.final_answer and t.require_code == "always" and not t.nudge and t.context == "names"
    assert parse("default,-nudge").nudge is False
    assert parse("default,check=on").check is True
    assert parse("default,context=source").context == "source"
    assert describe(parse("default,-restate,require_code=first")) == "default,require_code=first,-restate"
    assert parse(describe(parse("none,+check"))) == parse("none,+check")
    for bad in ("default,+bogus", "default,require_code=sometimes", "default,nudge=maybe", "context=all"):
        with pytest.raises(ValueError):
            parse(bad)


# ---- what the model is told of the kernel ----

def _shell_with(source: str):
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("reset", "-f")
    assert shell.run_cell(source).success
    return shell


def test_context_describes_callables_frames_and_plain_values():
    from codeact_magic.kernel_context import kernel_context

    shell = _shell_with('''
import pandas as pd
sales = pd.DataFrame({"city": ["Oslo", "Rome"], "amount": [3.5, 4.0]})
def convert(amount: float, rate: float = 1.5) -> float:
    """Converts an amount with a rate.

    Second paragraph."""
    return amount * rate
class Browser:
    """Pages stored offline."""
    def click(self, url: str) -> str:
        """Opens a page."""
browser = Browser()
values = [3, 8, 15]
SHOP_TOKEN = "abcdef123456"
''')
    text = kernel_context(shell, "anything").variables
    assert "convert(amount: float, rate: float = 1.5) -> float: function. Converts an amount with a rate." in text
    assert "sales: DataFrame, 2 rows × 2 columns" in text and "amount: float64" in text and "Oslo" in text
    assert "browser: Browser object. Pages stored offline." in text and ".click(url: str) -> str: Opens a page." in text
    assert "values: list (len 3) = [3, 8, 15]" in text
    assert "SHOP_TOKEN: str (value hidden" in text and "abcdef123456" not in text
    # The names-only context (the 0.1 loop's) gives one line per name, no docs nor rows.
    names = kernel_context(shell, "anything", rich=False).variables
    assert "Oslo" not in names and "Converts" not in names and "convert(amount" in names


def test_context_source_shows_the_users_short_functions_as_their_code():
    from codeact_magic.kernel_context import kernel_context

    long_body = "\n".join(f"    x += {i}" for i in range(12))
    shell = _shell_with(f'''
import functools
def calculate_tariff(price, tariff_rate):
    """Calculates the tariff. Arguments: price (float), tariff_rate (float, in %)"""
    return price * tariff_rate / 100
def documented(function):
    @functools.wraps(function)
    def tool(*args):
        return function(*args)
    return tool
def budget(flight, nights):
    return flight + 120 * nights
budget_tool = documented(budget)
def sum(*args):
    """Sums the given arguments."""
    total = 0
    for a in args:
        total += a
    return total
def long_one(x):
{long_body}
    return x
def login(user):
    password = "hunter22"
    return user, password
square = lambda x: x * x
''')
    text = kernel_context(shell, "anything", source=True).variables
    # The code under the docstring's line, without the docstring.
    assert ("- calculate_tariff(price, tariff_rate): function. Calculates the tariff. Arguments: price "
            "(float), tariff_rate (float, in %)\n    def calculate_tariff(price, tariff_rate):\n"
            "        return price * tariff_rate / 100\n") in text
    assert '"""' not in text
    # A wrapped function is shown as written; a builtin's name is said to be the user's function.
    assert "- budget_tool(flight, nights): function\n    def budget(flight, nights):\n" in text
    assert ("sum(*args): function. Sums the given arguments. (in this kernel, sum is this function, "
            "not Python's builtin sum)\n    def sum(*args):\n        total = 0") in text
    # Long code, a secret in the code and a lambda's line are not shown.
    assert "x += 3" not in text and "long_one(x): function" in text
    assert "hunter22" not in text and "login(user): function" in text
    assert "lambda" not in text and "square(x): function" in text
    # The rich context (the default) shows no code.
    rich = kernel_context(shell, "anything").variables
    assert "return price" not in rich and "not Python's builtin" not in rich and "Calculates the tariff" in rich


def test_context_runs_no_user_code_it_cannot_trust():
    from codeact_magic.kernel_context import kernel_context

    shell = _shell_with('''
calls = []
class Lazy:
    def __repr__(self):
        calls.append("repr"); return "lazy"
    def __getattr__(self, name):
        calls.append(name); raise AttributeError(name)
    def __len__(self):
        calls.append("len"); return 1
frame = Lazy()
items = [Lazy(), 1]
''')
    text = kernel_context(shell, "x").variables
    assert shell.user_ns["calls"] == []  # neither __repr__ nor __getattr__ nor __len__ ran
    assert "frame: Lazy object" in text and "items: list (len 2)" in text


def test_context_describes_only_what_it_shows_within_its_budget():
    from codeact_magic.kernel_context import MAX_VARIABLES, variables_part

    shell = _shell_with("\n".join(f"v{i} = {i}" for i in range(100)))
    text = variables_part(shell)
    assert "v99: int = 99" in text and "v0:" not in text
    assert len(text.splitlines()) == MAX_VARIABLES
    assert variables_part(shell, budget=0.0).splitlines()[-1] == "- v99: int"  # past the budget: type only


def test_context_shows_the_first_lines_of_the_files_the_request_names(tmp_path, monkeypatch):
    from codeact_magic.kernel_context import files_part

    data = tmp_path / "my data.csv"
    data.write_text("city,amount\nOslo,3\nRome,4\nLima,5\nQuito,6\nBern,7\n")
    (tmp_path / "notes.csv").write_text("a\n1\n")
    monkeypatch.chdir(tmp_path)
    text = files_part('Sum the amounts in "my data.csv" please, not missing.csv nor notes.txt.')
    assert text.startswith("- my data.csv (") and "6 lines" in text
    assert "city,amount" in text and "Quito,6" in text and "Bern" not in text  # five lines
    assert "missing.csv" not in text
    other = tmp_path / "sub" / "t.tsv"
    other.parent.mkdir()
    other.write_text("x\ty\n")
    assert files_part(f"Read {other}.").startswith(f"- {other} (")  # an absolute path, unquoted


# ---- final_answer() ----

def test_final_answer_is_offered_for_the_block_and_the_users_own_comes_back():
    from codeact_magic.final_answer import Slot, offered

    namespace = {"final_answer": "the user's own"}
    slot = Slot()
    with offered(namespace, slot):
        namespace["final_answer"](42)
    assert slot.delivered.value == 42 and slot.delivered.text == "42"
    assert namespace["final_answer"] == "the user's own"
    empty: dict = {}
    with offered(empty, Slot()):
        assert callable(empty["final_answer"])
    assert "final_answer" not in empty


def test_long_runs_of_library_frames_are_shortened_for_the_model():
    import pandas as pd

    from codeact_magic.observation import format_error

    def user_code():
        return pd.DataFrame({"a": ["1", "x[2]"]})["a"].astype(int)

    try:
        user_code()
    except ValueError as exc:
        text = format_error(exc, before_exec=False)
    assert "in user_code" in text and ".astype(int)" in text  # the step's own frames, whole
    assert "frames inside pandas ...]" in text
    assert text.count('File "') <= 4  # not the twenty frames pandas raises through
    assert text.rstrip().endswith("ValueError: invalid literal for int() with base 10: 'x[2]'")


# ---- what the user gave ----

def test_redefined_names_and_the_code_without_them():
    from codeact_magic.given import redefined, without

    code = ("import math\n# my versions\n@cache\ndef price(item):\n    return 1\nrate = 2.0\n"
            "class Shop:\n    pass\nif True:\n    def helper(): pass\ntotal = price('a') * rate\nprint(total)\n")
    assert redefined(code, ("price", "rate", "Shop", "helper", "math", "unused")) == [
        "math", "price", "rate", "Shop", "helper"]
    assert redefined(code, ("price",), "fix price so it reads the table") == []  # named: meant
    assert redefined("!ls\ndef price(): pass", ("price",)) == ["price"]  # IPython syntax too
    assert without(code, ["price", "rate", "Shop"]) == (
        "import math\n# my versions\nif True:\n    def helper(): pass\ntotal = price('a') * rate\nprint(total)\n")
    assert without("def price():\n    return 1\n# done", ["price"]) is None  # nothing left to run


def test_data_typed_out_over_a_given_variable():
    from codeact_magic.given import invented

    data = ("sales", "values", "df")
    # Made-up copies of the user's data: a list of rows, a DataFrame of typed columns.
    assert invented("sales = [('Oslo', 120), ('Rome', 95)]\nprint(sales)", data) == ["sales"]
    assert invented("import pandas as pd\nsales: pd.DataFrame = pd.DataFrame({'city': ['Oslo', 'Rome'],"
                    " 'amount': [120, 95]})\nprint(sales.amount.sum())", data) == ["sales"]
    assert invented("df = values = [1, 2, 3]", data) == ["df", "values"]
    # Working on the given data, reading it from a file, a scalar, a name not given: not made up.
    assert invented("sales = [s for s in sales if s[1] > 100]", data) == []
    assert invented("df = df[df.city.isin(['Oslo', 'Rome'])]", data) == []
    assert invented("df = pd.read_csv('sales.csv')", data) == []
    assert invented("values = 3", data) == []
    assert invented("totals = {'Oslo': 263, 'Rome': 205}", data) == []
    # Inside a function it is the function's own name.
    assert invented("def f():\n    sales = [1, 2]\n    return sales", data) == []


def test_an_exact_copy_of_given_data_is_not_made_up():
    from codeact_magic.given import invented

    namespace = {"values": [3, 8, 15], "sales": [("Oslo", 120), ("Rome", 95)]}
    assert invented("values = [3, 8, 15]\nprint(sum(values))", ("values",), namespace) == []
    assert invented("values = [3, 8]", ("values",), namespace) == ["values"]  # a part of it is
    assert invented("sales = [('Oslo', 120), ('Rome', 95)]", ("sales",), namespace) == []


def test_a_key_error_is_read_in_each_form_pandas_and_dicts_raise_it():
    import pandas as pd

    from codeact_magic.suggestions import suggest
    calls = pd.DataFrame(columns=["timestamp", "avg. wait time ", "num. calls abandoned "])
    from types import SimpleNamespace
    namespace = {"calls": calls, "prices": {"apple": 1, "api_key": "x"}, "n": 3}
    shell = SimpleNamespace(user_ns=namespace)
    # "[...] not in index", from a list of columns.
    found = suggest("KeyError", "\"['avg. wait time'] not in index\"", "calls[['avg. wait time']]", shell)
    assert [(f.owner, f.wrong, f.right, f.spaces) for f in found] == [
        ("calls", "avg. wait time", "avg. wait time ", True)]
    # Case, and underscores for spaces: the same name.
    assert suggest("KeyError", "'TIMESTAMP'", "calls['TIMESTAMP']", shell)[0].right == "timestamp"
    assert suggest("KeyError", "'avg._wait_time'", "calls['avg._wait_time']",
                   shell)[0].right == "avg. wait time "
    # A dict's keys; one that looks secret is never listed.
    found = suggest("KeyError", "'pear'", "prices['pear']", shell)
    assert found[0].right is None and found[0].listed == ("apple",)
    # The dicts a list holds (records): the key missing from each, read from the first.
    namespace["flights"] = [{"from_location": "E", "price": 450}, {"from_location": "E", "price": 300}]
    found = suggest("KeyError", "'preferences'", "[f for f in flights if 'wifi' in f['preferences']]",
                    shell)
    assert [(f.owner, f.right, f.listed) for f in found] == [
        ("each dict in flights", None, ("from_location", "price"))]
    # A key that is not a string, a name nothing is near, another error: nothing.
    assert suggest("KeyError", "0", "prices[0]", shell) == []
    assert suggest("NameError", "name 'zebra' is not defined", "zebra", shell) == []
    assert suggest("ValueError", "'pear'", "prices['pear']", shell) == []


def test_a_module_not_imported_gets_its_import_and_an_import_of_a_kernel_function_is_told_so():
    from types import SimpleNamespace

    from codeact_magic.prompts import Prompts
    from codeact_magic.suggestions import suggest

    shell = SimpleNamespace(user_ns={"calculator": lambda expression: 0, "maths_score": 3})
    # The standard library, an installed library's usual alias; a near variable comes first.
    assert Prompts().near(suggest("NameError", "name 'math' is not defined", "math.sqrt(2)", shell)) == \
        "math is not defined: the module is not imported. Add import math at the top of the code."
    assert suggest("NameError", "name 'np' is not defined", "np.mean(x)", shell)[0].right == "import numpy as np"
    assert suggest("NameError", "name 'maths_scor' is not defined", "maths_scor", shell)[0].right == "maths_score"
    assert suggest("NameError", "name 'no_such_module_here' is not defined", "no_such_module_here.f()", shell) == []
    # A module's name not used as a module (a list called numbers, never assigned): nothing.
    assert suggest("NameError", "name 'numbers' is not defined", "print(sum(numbers))", shell) == []
    # "from calculator import calculator", for a function in the kernel.
    found = suggest("ModuleNotFoundError", "No module named 'calculator'", "from calculator import calculator", shell)
    assert Prompts().near(found) == ("There is no module calculator, but the kernel has calculator already "
                                     "(a function): use it as it is, without an import.")
    assert suggest("ModuleNotFoundError", "No module named 'selenium'", "import selenium", shell) == []


def test_a_call_with_arguments_its_function_does_not_take_is_shown_what_it_takes():
    import functools
    import inspect

    import pandas as pd
    from sklearn.impute import SimpleImputer
    from scipy import stats

    from codeact_magic.call_signature import Signature, callee_signature
    from codeact_magic.failing_line import FailingLine

    def f(a):
        return a

    def checked(function):
        # How scikit-learn checks arguments: Signature.bind, whose message names no function.
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            inspect.signature(function).bind(*args, **kwargs)
            return function(*args, **kwargs)
        return wrapper

    @checked
    def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
        return 0.0

    namespace = {"mean_squared_error": mean_squared_error, "SimpleImputer": SimpleImputer, "stats": stats,
                 "frame": pd.DataFrame({"a": [1]}), "f": f, "secret_client": f}

    def takes(code):
        try:
            exec(code, dict(namespace))
        except TypeError as error:
            lines = code.splitlines()
            return callee_signature(error, code, FailingLine(len(lines), lines[-1].strip()), namespace)
        raise AssertionError(f"{code!r} raised no TypeError")

    # A message that names no function: the call that passes the keyword.
    assert takes("y = [1.0, 2.0]\nrmse = mean_squared_error(y, y, squared=False)") == Signature(
        "mean_squared_error", "(y_true, y_pred, *, sample_weight=None, multioutput='uniform_average')", "squared")
    # A class: its __init__'s parameters; a module's function; a method read off an instance
    # (statically, without its first parameter and annotations); a function of the user's.
    assert takes("SimpleImputer(strategy='knn', n_neighbors=3)").parameters.startswith("(*, missing_values=nan,")
    assert takes("stats.ttest_ind([1, 2], [3, 4], variance=False)").call == "stats.ttest_ind"
    assert takes("frame.apply()").parameters.startswith("(func, axis=0, raw=False")
    assert takes("print(f(1, 2))") == Signature("f", "(a)")
    assert takes("sorted([2, 1], reversed=True)") == Signature("sorted", "(iterable, /, *, key=None, reverse=False)",
                                                             "reversed")
    # Another TypeError, a builtin with no text signature, a secret-looking name: nothing.
    assert takes("len(5)") is None
    assert takes("'abc'.find('a', start=1)") is None
    assert takes("secret_client(1, 2)") is None


def _attribute_error(code: str, namespace: dict) -> AttributeError:
    try:
        exec(code, dict(namespace))
    except AttributeError as error:
        return error
    raise AssertionError(f"{code!r} raised no AttributeError")


def test_a_missing_attribute_is_followed_by_the_near_one_or_the_call_that_does_it():
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from codeact_magic.suggestions import suggest

    namespace = {"np": np, "z": np.zeros(3), "s": pd.Series([1.5]), "text": "abc",
                 "frame": pd.DataFrame({"a": [1]}), "api_token": np.zeros(2)}
    shell = SimpleNamespace(user_ns=namespace)

    def told(code):
        error = _attribute_error(code, namespace)
        return [(n.owner, n.type, n.right, n.call)
                for n in suggest("AttributeError", str(error), code, shell, error, attributes=True)]

    # What stats.zscore returns has no .abs() (a Series has): the builtin that calls its __abs__.
    assert told("outliers = z.abs() > 3") == [("z", "numpy.ndarray", None, "abs(z)")]
    assert told("print((z - 1).abs())") == [("(z - 1)", "numpy.ndarray", None, "abs(z - 1)")]
    # A function of that name in the object's library, spelt as the kernel imported it.
    assert told("z.isnan()") == [("z", "numpy.ndarray", None, "np.isnan(z)")]
    # A near attribute, as CPython's "Did you mean".
    assert told("s.to_lst()") == [("s", "pandas.Series", "to_list", None)]
    # Nothing to say: a class of that name (np.dtype), a hook every object has (a str read as a
    # Series: str(text) would not help), a name nothing is near, a secret-looking owner.
    assert told("frame['a'].dtype.dtype") == []
    assert told("text.str.contains('a')") == []
    assert told("s.total_seconds()") == []
    assert told("api_token.abs()") == []
    # Without the exception (an error from another kernel), or asked for no attributes: nothing.
    assert suggest("AttributeError", "'numpy.ndarray' object has no attribute 'abs'", "z.abs()", shell,
                   attributes=True) == []
    error = _attribute_error("z.abs()", namespace)
    assert suggest("AttributeError", str(error), "z.abs()", shell, error) == []


def test_a_step_python_cannot_read_is_told_which_part_of_its_f_string_is_wrong():
    import sys

    from codeact_magic.syntax_fault import SyntaxFault, syntax_fault

    def fault(code):
        try:
            compile(code, "<step>", "exec")
        except SyntaxError as error:
            return syntax_fault(error, code)
        return "compiles"

    # DABench: the answer's form wrapped in one more pair of braces, closed or never.
    assert fault('x = 1\nfinal_answer(f"{@mean[{x}]} @std[{x}]")') == SyntaxFault(2, field="{@mean[{x}]}")
    cut = fault('final_answer(f"{@mean[{x}]: The mean should be a single real number rounded to two '
                'decimal places, as the request asks.")')
    assert cut.field.startswith("{@mean[{x}]: The mean") and cut.field.endswith("…") and len(cut.field) == 80
    assert fault('print(f"{}")') == SyntaxFault(1, field="{}")
    # Conversions, format specs, "=", nested brackets and strings, escaped braces: good fields; the
    # fault is found in the next f-string, and a plain string that looks like a field is passed over.
    assert fault("print(f'{a!r:>{w}} {b=} {d[\"k\"]:.2f} {{x}} {x if y else \"a:b\"}', '{@', f'{@b}')") == \
        SyntaxFault(1, field="{@b}")
    # The string's own quote inside a field: an error before Python 3.12 only.
    nested = 'print(f"{row["name"]}")\n'
    if sys.version_info < (3, 12):
        assert fault(nested) == SyntaxFault(1, quote='"')
    else:
        assert fault(nested) == "compiles"
    # Another syntax error: the line alone; in a comment, nothing is read.
    assert fault("x = 1 +\ny = 2 # f'{@'") == SyntaxFault(1)
    assert fault("x = 1\ny = = 2 # f'{@'") == SyntaxFault(2)
    assert fault("if x\n    pass") == SyntaxFault(1)
    # Not a syntax error: nothing.
    assert syntax_fault(ValueError("no"), "x") is None


# ---- bench/paired: which reruns measure a mechanism ----

def _turns(*contents: str) -> list[dict]:
    roles = ["system"] + ["user", "assistant"] * len(contents)
    return [{"role": r, "content": c} for r, c in zip(roles, ("...", *contents))]


def test_a_rerun_is_paired_where_the_loop_first_said_something_else_not_where_the_model_did():
    from codeact_magic.bench.paired import divergence

    before = _turns("Q", "code A", "error", "code A again", "stall warning", "code A")
    # The loop sent another message after the same replies: the mechanism acted.
    told = _turns("Q", "code A", "error", "code A again", "started again", "code B")
    assert divergence(before, told) == divergence(before, told, "anything")
    assert divergence(before, told).paired and divergence(before, told).at == 5
    # The model replied otherwise to the same request: the server's noise, not the mechanism.
    noise = _turns("Q", "code C", "error")
    assert not divergence(before, noise).paired and divergence(before, noise).role == "assistant"
    assert divergence(before, noise).at == 2 and "not paired" in divergence(before, noise).label
    # ... unless the mechanism shapes that very reply (a grammar after the form's message).
    shaped = _turns("Q", "code A", "error", "code D")
    assert not divergence(before, shaped).paired
    assert divergence(before, shaped, acts_after="error").paired
    assert not divergence(before, shaped, acts_after="the form's message").paired
    # The same conversation; and one that goes on where the other ended (the loop's decision).
    assert divergence(before, before) .at is None and divergence(before, before).paired
    assert divergence(before[:3], before).paired and divergence(before[:3], before).at == 3
    # ... but one that goes on with a reply where the other ended on the loop's message: the
    # other's reply there was not kept (a repeat dropped, a sampled retry) and may have differed.
    assert not divergence(before[:4], before).paired and divergence(before[:4], before).at == 4
    # A run whose conversation was not kept (a file rebuilt from a note's table) pairs with nothing.
    assert not divergence([], before).paired and "not stored" in divergence([], before).label


def test_the_paired_script_counts_only_the_paired_reruns(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    def run(task, trajectory, solved, tokens, follow_ups=()):
        return json.dumps({"task": task, "harness": "ours", "answer": None, "status": "answered",
                           "steps": 1, "calls": 2, "prompt_tokens": tokens, "completion_tokens": 9,
                           "seconds": 1.0, "score": {"solved": solved}, "trajectory": trajectory,
                           "follow_ups": list(follow_ups)}) + "\n"

    stored = _turns("Q", "code A", "out", "answer 1")
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    before.write_text(run("1", stored, False, 100) + run("2", stored, False, 100) + run("3", stored, False, 100))
    after.write_text(run("1", _turns("Q", "code A", "out", "answer 1", "form", "answer 2"), True, 150)
                     + run("2", _turns("Q", "code B", "out", "answer 2"), True, 120)
                     + run("3", _turns("Q", "started again", "x"), True, 130, ["stall", "fresh"]))
    script = Path(__file__).parent.parent / "benchmarks" / "paired.py"
    done = subprocess.run([sys.executable, str(script), str(before), str(after)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "paired: first differs at the loop's message 5" in next(x for x in lines if x.startswith("| 1 "))
    assert "not paired" in next(x for x in lines if x.startswith("| 2 "))
    assert "started again" in next(x for x in lines if x.startswith("| 3 "))
    # Only task 1 counts as paired: 0 → 1 solved; all three: 0 → 3.
    assert next(x for x in lines if x.startswith("| paired")).split("|")[2:5] == [" 1 ", " 0 → 1  ", " 0 → 0   "]
    assert "| 3 " in next(x for x in lines if x.startswith("| all"))
