"""The whole loop in an IPython shell (as in plain IPython), through litellm and real HTTP."""

from __future__ import annotations

import os

import pytest
from conftest import MODEL, Reply, code, options

import codeact_magic


def codeact(ip, server, request: str, extra: str = ""):
    result = ip.run_cell(f"%%codeact {options(server, extra)}\n{request}", store_history=True)
    return result, codeact_magic.last_run()


def test_code_runs_in_the_user_namespace_and_the_answer_ends_the_run(ip, model, capsys):
    model.reset(code("total = sum(range(10))\nprint(total)"), "The total is **45**.")
    result, run = codeact(ip, model, "add the numbers below 10")
    assert result.success
    assert run.status == "answered" and run.answer == "The total is **45**."
    assert ip.user_ns["total"] == 45  # the variable stays for the user
    [step] = run.steps
    assert step.code == "total = sum(range(10))\nprint(total)\n"
    assert step.output == "45" and step.error is None
    # The model saw the real output, after its own (cut) reply.
    messages = model.requests[1]["messages"]
    assert messages[-2] == {"role": "assistant", "content": code("total = sum(range(10))\nprint(total)")}
    assert messages[-1]["content"] == "Execution result:\n45"
    out = capsys.readouterr().out
    assert "The total is **45**." in out and "Answered after 1 step" in out


def test_steps_are_real_cells_with_their_own_execution_counts(ip, model):
    model.reset(code("a = 1"), code("a + 1"), "Done: 2.")
    before = ip.execution_count
    result, run = codeact(ip, model, "count")
    counts = [s.execution_count for s in run.steps]
    assert counts == [before + 1, before + 2]  # the magic cell is `before`
    assert ip.user_ns["In"][before + 1].strip() == "a = 1"
    assert ip.user_ns["Out"][before + 2] == 2
    assert run.steps[1].output == "2"  # the value of a last expression is shown to the model
    assert ip.execution_count == before + 3  # the user's next cell follows on


def test_invented_output_after_the_code_never_reaches_history(ip, model):
    model.reset(Reply(code("print(7)") + "\n```output\n999\n```\nSo it is 999.", honor_stop=False),
                "It is 7.")
    _, run = codeact(ip, model, "print seven")
    assert run.answer == "It is 7."
    assistant = model.requests[1]["messages"][-2]["content"]
    assert "999" not in assistant and assistant.endswith("```")


def test_error_traceback_reaches_the_model_without_harness_frames(ip, model):
    model.reset(code("def f():\n    return 1 / 0\nf()"), "Division by zero.")
    _, run = codeact(ip, model, "divide")
    step = run.steps[0]
    assert step.error.ename == "ZeroDivisionError" and step.error.evalue == "division by zero"
    feedback = model.requests[1]["messages"][-1]["content"]
    assert feedback.startswith("Execution failed:\nTraceback (most recent call last):")
    assert "return 1 / 0" in feedback and "ZeroDivisionError: division by zero" in feedback
    assert "interactiveshell.py" not in feedback and "codeact_magic" not in feedback
    assert "\x1b[" not in feedback


def test_a_failing_step_reads_the_same_whatever_ran_in_the_kernel_before(ip, model):
    # The kernel names a cell after its execution count: a benchmark question run again alone (or
    # after other cells) showed the model other numbers in its tracebacks and warnings, and at
    # temperature 0 it went another way.
    step = code("def f():\n    return 1 / 0\nf()")
    seen = []
    for cells_before in (0, 3):
        for _ in range(cells_before):
            ip.run_cell("pass", store_history=True)
        model.reset(step, "Division by zero.")
        codeact(ip, model, "divide")
        seen.append(model.requests[1]["messages"][-1]["content"])
    assert seen[0] == seen[1]
    assert 'File "<cell>", line 3, in <module>' in seen[0] and 'File "<cell>", line 2, in f' in seen[0]
    assert "ipython-input" not in seen[0]


def test_a_fault_of_the_loop_itself_ends_the_run_with_its_cells_kept_and_says_where(ip, model, monkeypatch,
                                                                                     capsys, caplog):
    # A bug in how the loop reads a reply (as a TokenError once escaped the magic on DABench and
    # ended the whole benchmark): the cell does not fail, the run ends with status "error", the
    # steps that ran stay, and the traceback is printed for a report.
    import tokenize

    import codeact_magic.loop as loop

    real, calls = loop.repeated_step, []

    def faulty(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise tokenize.TokenError("EOF in multi-line statement", (17, 0))
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "repeated_step", faulty)
    model.reset(code("kept = 41 + 1\nprint(kept)"), code("print(kept)"), "never asked")
    result, run = codeact(ip, model, "keep a value")
    assert result.success and run.status == "error"
    assert run.note.startswith("Stopped by a fault in codeact_magic itself (TokenError: ('EOF in "
                               "multi-line statement', (17, 0)), in loop.py:")
    assert [s.output for s in run.steps] == ["42"] and ip.user_ns["kept"] == 42
    assert run.messages[-1]["content"] == "Execution result:\n42"  # the conversation up to the fault
    [logged] = [r for r in caplog.records if r.name == "codeact_magic.loop"]  # with its traceback
    assert logged.exc_info[0] is tokenize.TokenError
    assert "Stopped by a fault in codeact_magic itself" in capsys.readouterr().out


def test_syntax_error_is_reported(ip, model):
    model.reset(code("print(1"), "Sorry.")
    _, run = codeact(ip, model, "broken")
    assert run.steps[0].error.ename == "SyntaxError"
    assert "SyntaxError" in model.requests[1]["messages"][-1]["content"]
    # Its message names the cell as every traceback does: the same error reads the same at any
    # execution count (the stall check compares it; fresh_start's summary tells it).
    assert run.steps[0].error.evalue == "incomplete input (<cell>, line 1)"


def test_unbalanced_code_is_reported_not_raised(ip, model):
    model.reset(code("print((1 + 2)"), "Sorry, a bracket was missing.")
    result, run = codeact(ip, model, "unbalanced")
    assert result.success and run.status == "answered"
    assert run.steps[0].error is not None
    assert run.steps[0].error.ename in ("SyntaxError", "TokenError")


def test_max_steps_stops_before_running_more(ip, model):
    model.reset(code("n1 = 1"), code("n2 = 2"), code("n3 = 3"))
    ip.user_ns.pop("n3", None)
    _, run = codeact(ip, model, "loop", "--max-steps 2")
    assert run.status == "max_steps" and len(run.steps) == 2
    assert "n3" not in ip.user_ns  # the proposed third step never ran
    assert "2 steps" in run.note and len(model.requests) == 3


def test_config_sets_the_step_limit(ip, model):
    ip.run_line_magic("config", "CodeAct.max_steps = 1")
    model.reset(code("m1 = 1"), code("m2 = 2"))
    _, run = codeact(ip, model, "loop")
    assert run.status == "max_steps" and len(run.steps) == 1


def test_same_code_twice_stops_as_a_stall(ip, model):
    model.reset(code("print('again')"), code("print('again')"))
    _, run = codeact(ip, model, "repeat")
    assert run.status == "stopped" and "same code" in run.note and len(run.steps) == 1


def test_same_error_three_times_stops_as_a_stall(ip, model):
    model.reset(code("undefined_1"), code("undefined_1  # try again"), code("undefined_1  # third"),
                "never asked")
    _, run = codeact(ip, model, "fail")
    assert run.status == "stopped" and "same error" in run.note and len(run.steps) == 3
    assert len(model.requests) == 3


def test_huge_output_is_capped_for_the_model(ip, model):
    model.reset(code("print('x' * 1_000_000)"), "A lot of x.")
    _, run = codeact(ip, model, "flood")
    feedback = model.requests[1]["messages"][-1]["content"]
    assert len(feedback) < 5000 and "characters cut" in feedback
    assert run.steps[0].output in feedback


def test_input_raises_at_once(ip, model):
    model.reset(code("name = input('Your name? ')"), "I cannot ask.")
    _, run = codeact(ip, model, "ask")
    assert run.steps[0].error.ename == "StdinNotAvailable"
    assert "input() is not available" in run.steps[0].output


def test_step_timeout_interrupts_and_the_shell_stays_usable(ip, model):
    model.reset(code("import time\nprint('begin', flush=True)\ntime.sleep(30)\nslept = True"), "Too slow.")
    ip.user_ns.pop("slept", None)
    _, run = codeact(ip, model, "sleep", "--timeout 1")
    step = run.steps[0]
    assert step.timed_out and "timeout" in step.output and "begin" in step.output
    assert "slept" not in ip.user_ns and run.status == "answered"
    assert ip.run_cell("1 + 1").result == 2


def test_secrets_never_reach_the_model(ip, model, monkeypatch):
    monkeypatch.setenv("SHOP_API_KEY", "sk-live-0123456789abcdef")
    model.reset(code("import os\nprint(os.environ['SHOP_API_KEY'])"), "It is set.")
    _, run = codeact(ip, model, "what is my key? sk-live-0123456789abcdef")
    sent = str(model.requests)
    assert "sk-live-0123456789abcdef" not in sent and "[REDACTED]" in sent
    assert run.steps[0].output == "[REDACTED]"


def test_arun_from_code_returns_the_run(ip, model):
    model.reset(code("print(2 ** 10)"), "1024")
    result = ip.run_cell(f"import codeact_magic\nr = await codeact_magic.arun('power', model={MODEL!r}, "
                         f"api_base={model.url!r}, display=False)")
    assert result.success, result.error_in_exec
    run = ip.user_ns["r"]
    assert run is codeact_magic.last_run() and run.status == "answered" and run.answer == "1024"


def test_usage_is_summed_over_calls(ip, model):
    model.reset(code("print(1)"), "one")
    _, run = codeact(ip, model, "one")
    assert run.usage.prompt_tokens > 0 and run.usage.completion_tokens > 0
    assert run.usage.cost is None  # a self-hosted model's price is unknown
    assert run.steps[0].usage.total_tokens > 0


def test_bad_option_is_a_usage_error_and_nothing_runs(ip, model, capsys):
    result = ip.run_cell(f"%%codeact --max-step 3 {options(model)}\nhi")
    assert not result.success
    assert "usage: %%codeact" in capsys.readouterr().err
    assert model.requests == []


def test_empty_request_is_a_usage_error(ip, model, capsys):
    result = ip.run_cell(f"%%codeact {options(model)}\n   \n")
    assert not result.success and "write your request" in capsys.readouterr().err


def test_no_model_chosen_says_how_to_pick_one(ip, monkeypatch, capsys):
    monkeypatch.delenv("CODEACT_MODEL", raising=False)
    # As on a machine without the `local` extra (here it is installed).
    monkeypatch.setattr("codeact_magic.local.weights.installed", lambda *a: False)
    result = ip.run_cell("%%codeact\nhello")
    err = capsys.readouterr().err
    assert not result.success and "No model is chosen" in err and "CODEACT_MODEL" in err
    assert "codeact-magic[local]" in err


def test_model_choice_order(ip, monkeypatch):
    from codeact_magic.config import config_of

    config = config_of(ip)
    monkeypatch.delenv("CODEACT_MODEL", raising=False)
    assert config.resolve_model().model == "local"  # the embedded default (the extra is installed)
    monkeypatch.setenv("CODEACT_MODEL", "openai/from-env")
    assert config.resolve_model() .source == "CODEACT_MODEL"
    config.model = "openai/from-config"
    assert config.resolve_model().model == "openai/from-config"
    assert config.resolve_model("openai/from-option").model == "openai/from-option"


def test_codeact_model_environment_variable_is_the_default(ip, model, monkeypatch):
    monkeypatch.setenv("CODEACT_MODEL", MODEL)
    ip.run_line_magic("config", f"CodeAct.api_base = {model.url!r}")
    model.reset("Hello.")
    ip.run_cell("%%codeact\nhello")
    run = codeact_magic.last_run()
    assert run.status == "answered" and run.model == MODEL and model.requests[0]["model"] == "scripted"


def test_load_ext_does_not_import_litellm():
    import subprocess
    import sys

    probe = ("from IPython.testing.globalipapp import start_ipython; ip = start_ipython(); "
             "ip.run_line_magic('load_ext', 'codeact_magic'); import sys; "
             "print('litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert out.stdout.strip().endswith("False")


def test_max_cost_stops_before_the_next_model_call(ip, model):
    # A model whose price litellm knows, served by the scripted server.
    ip.run_line_magic("config", "CodeAct.max_cost = 0.00005")
    model.reset(code("print('first')"), code("print('second')"), "never asked")
    result = ip.run_cell(f"%%codeact --model openai/gpt-4o-mini --api-base {model.url}\nspend")
    assert result.success
    run = codeact_magic.last_run()
    assert run.usage.cost is not None and run.usage.cost >= 0.00005
    assert run.status == "stopped" and "budget" in run.note and "CodeAct.max_cost" in run.note
    assert len(model.requests) == 1 and len(run.steps) == 1


def test_cost_is_counted_per_step_and_per_run(ip, model):
    model.reset(code("print(1)"), "One.")
    ip.run_cell(f"%%codeact --model openai/gpt-4o-mini --api-base {model.url}\none")
    run = codeact_magic.last_run()
    assert run.steps[0].usage.cost > 0 and run.usage.cost > run.steps[0].usage.cost


def test_confirm_mode_refuses_without_console_input(ip, model, capsys):
    model.reset(code("print(1)"))
    ip.run_cell(f"%%codeact {options(model)} --mode confirm\nhi")  # pytest's stdin is no console
    run = codeact_magic.last_run()
    assert run.status == "error" and "no console input" in run.note and model.requests == []


def test_output_that_utf8_cannot_encode_reaches_the_model_escaped(ip, model):
    # A file name read with surrogate escapes (os.listdir of 'caf\xe9.txt' on a UTF-8 system) or a
    # lone surrogate printed by a step: the request body must still be valid UTF-8.
    model.reset(code("print('caf\\udce9.txt', '\\udcff')"), "The file is café.txt.")
    codeact(ip, model, "list the files")
    run = codeact_magic.last_run()
    assert run.status == "answered", run.note
    feedback = model.requests[1]["messages"][-1]["content"]
    assert "caf\\udce9.txt \\udcff" in feedback


@pytest.mark.parametrize("value", ["nan", "inf", "1e-9", "-1", "ten"])
def test_a_timeout_that_cannot_be_is_a_usage_error(ip, model, capsys, value):
    result = ip.run_cell(f"%%codeact --timeout {value} {options(model)}\nhi")
    assert not result.success
    err = capsys.readouterr().err
    assert "usage: %%codeact" in err and ("seconds from 0.1" in err or "not a number" in err)
    assert model.requests == []


def test_arun_and_config_refuse_a_timeout_that_cannot_be(ip, model):
    from traitlets import TraitError

    from codeact_magic.config import config_of

    result = ip.run_cell(f"import codeact_magic\nr = await codeact_magic.arun('hi', model={MODEL!r}, "
                         f"api_base={model.url!r}, timeout=float('nan'), display=False)")
    assert isinstance(result.error_in_exec, ValueError) and "seconds from 0.1" in str(result.error_in_exec)
    assert model.requests == []
    config = config_of(ip)
    with pytest.raises(TraitError, match="step_timeout"):
        config.step_timeout = float("inf")
    ip.run_line_magic("config", "CodeAct.step_timeout = float('nan')")  # logged, not taken
    assert config.step_timeout == 60.0
    config.step_timeout = 0  # no limit, as documented


def test_secrets_in_kernel_variables_and_by_shape_never_reach_the_model(ip, model, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app:hunter2pw@db.internal/shop")
    monkeypatch.setenv("SHOP_TOKEN", 'tok"en\\with-escapes-42')
    ip.user_ns.update(password="correct-horse-battery", api_creds={"pw": "staple-battery-9"},
                      db_url="mysql://root:rootpass77@localhost/db", region="north")
    try:
        model.reset(code("import os\nprint(password, api_creds, db_url)\nprint(os.environ['DATABASE_URL'])\n"
                         "print(repr(os.environ['SHOP_TOKEN']), dict(os.environ)['SHOP_TOKEN'])"), "Done.")
        _, run = codeact(ip, model, "show my settings")
        sent = str(model.requests) + run.steps[0].output
        for value in ("correct-horse-battery", "staple-battery-9", "rootpass77", "hunter2pw",
                      "tok\\\\\"en", 'tok"en', "with-escapes-42"):
            assert value not in sent, value
        # The variables list names them without their values; an ordinary value is still shown.
        request = model.requests[0]["messages"][-1]["content"]
        assert "- db_url: str (value hidden" in request and "- api_creds: dict (value hidden" in request
        assert "region: str (len 5) = 'north'" in request
    finally:
        for name in ("password", "api_creds", "db_url", "region"):
            ip.user_ns.pop(name, None)


def test_the_ambient_openai_key_never_goes_to_another_server(ip, model, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ambient-openai-key-0000000000")
    model.reset("Hello.")
    codeact(ip, model, "hi")
    assert model.authorizations == ["Bearer no-key"]
    # The key for that server is named, never written: the named variable's value is sent.
    monkeypatch.setenv("SCRIPTED_SERVER_KEY", "sk-for-the-scripted-server-1111")
    ip.run_line_magic("config", "CodeAct.api_key_env = 'SCRIPTED_SERVER_KEY'")
    model.reset("Hello.")
    codeact(ip, model, "hi")
    assert model.authorizations == ["Bearer sk-for-the-scripted-server-1111"]
    # Named but not set: a clear usage error, and nothing is sent.
    ip.run_line_magic("config", "CodeAct.api_key_env = 'NOT_SET_ANYWHERE'")
    model.reset("Hello.")
    result, _ = codeact(ip, model, "hi")
    assert not result.success and "NOT_SET_ANYWHERE, which is not set" in str(result.error_in_exec)
    assert model.requests == []


def test_comment_lines_before_the_magic_are_the_users_notes(ip, model):
    model.reset("Hello.")
    result = ip.run_cell(f"# ask the model\n\n%%codeact {options(model)}\nsay hello", store_history=True)
    assert result.success, result.error_in_exec
    assert codeact_magic.last_run().request == "say hello"



def test_a_request_too_long_to_send_is_refused_with_what_to_do(ip, model):
    ip.run_line_magic("config", "CodeAct.max_request_chars = 1000")
    model.reset("never sent")
    result, run = codeact(ip, model, "summarise: " + "lorem ipsum " * 200)
    assert result.success and run.status == "error" and "more than 1,000" in run.note
    assert "in a file or a variable" in run.note and model.requests == []


def test_the_run_keeps_the_whole_conversation_when_the_prompt_is_elided(ip, model):
    # What `codeact export` writes: the whole conversation, not the elided prompt of the last call.
    import asyncio

    from codeact_magic.executor import Executor
    from codeact_magic.loop import Limits, codeact_loop
    from codeact_magic.model import LiteLLM
    from codeact_magic.prompts import Prompts
    from codeact_magic.run import Run
    from codeact_magic.tactics import parse
    from codeact_magic.window import ELIDED_OUTPUT

    long = "".join(str(i % 7) for i in range(1500))  # (litellm refuses a stream of one repeated chunk)
    model.reset(code(f"print('{long}')"), code("print('second')"), "Done.")
    run = Run(request="print things", model=MODEL)

    async def go() -> None:
        async for _ in codeact_loop(run, model=LiteLLM(MODEL, api_base=model.url, api_key="k"),
                                    executor=Executor(ip), prompts=Prompts(),
                                    limits=Limits(context_chars=3000), tactics=parse("none")):
            pass

    asyncio.run(go())
    assert run.status == "answered", run.note
    assert ELIDED_OUTPUT in str(model.requests[2]["messages"])  # the model's window was kept
    assert f"Execution result:\n{long}" in [m["content"] for m in run.messages]
    assert ELIDED_OUTPUT not in str(run.messages) and run.messages[-1]["content"] == "Done."


def test_a_shared_endpoint_without_a_model_never_starts_the_embedded_one(ip, monkeypatch, capsys):
    monkeypatch.delenv("CODEACT_MODEL", raising=False)
    ip.run_line_magic("config", "CodeAct.api_base = 'http://models.internal/v1'")
    result = ip.run_cell("%%codeact\nhello")
    assert not result.success
    assert "CodeAct.api_base is set (http://models.internal/v1) but no model is" in capsys.readouterr().err


def test_the_embedded_servers_key_is_hidden_whatever_model_runs(ip, model, monkeypatch, tmp_path):
    # A step can read the embedded server's state file; its key never reaches another model.
    import json

    key = "local-server-key-7f3a9c2e11"
    monkeypatch.setenv("CODEACT_CACHE_DIR", str(tmp_path))
    (tmp_path / "server.json").write_text(json.dumps({
        "pid": 1, "port": 1, "api_key": key, "model_path": "m", "alias": "a", "started_at": 0, "log": "l"}))
    model.reset(code(f"import json\nprint(json.load(open({str(tmp_path / 'server.json')!r}))['api_key'])"),
                "Read it.")
    _, run = codeact(ip, model, "what is in the state file?")
    assert key not in str(model.requests) and run.steps[0].output == "[REDACTED]"


def test_the_run_says_which_variables_it_created_and_which_it_rebound(ip, model, capsys):
    ip.run_cell("prices = [3, 4]\nuntouched = 1")
    try:
        model.reset(code("total_price = sum(prices)\nprices = sorted(prices, reverse=True)\nprint(total_price)",
                         thought="I add them up."), "It is 7.")
        _, run = codeact(ip, model, "add up prices")
        assert run.created == ["total_price"] and run.changed == ["prices"]
        assert run.steps[0].thought == "I add them up."
        out = capsys.readouterr().out
        assert "Variables: new total_price · changed prices" in out
    finally:
        for name in ("prices", "untouched", "total_price"):
            ip.user_ns.pop(name, None)


def test_skill_modules_are_told_to_the_model_and_importable(ip, model, capsys):
    import sys
    from pathlib import Path

    skills = str(Path(__file__).resolve().parent.parent / "examples" / "skills")
    sys.path.insert(0, skills)
    try:
        model.reset(code("from shop_prices import price_of, in_euros\nprint(in_euros(3 * price_of('wand')))"),
                    "43.88 euros.")
        _, run = codeact(ip, model, "three wands, in euros?", "--skills shop_prices")
        system = model.requests[0]["messages"][0]["content"]
        assert "Skill modules: import them" in system and "def price_of(item: str) -> float:" in system
        assert run.steps[0].output == "43.88" and run.answer == "43.88 euros."
        # A module that cannot be imported: a clear error, and no model call.
        model.reset("never sent")
        _, run = codeact(ip, model, "hi", "--skills no_such_skill_module")
        assert run.status == "error" and model.requests == []
        assert "the skill module 'no_such_skill_module' cannot be imported: ModuleNotFoundError" in run.note
    finally:
        sys.path.remove(skills)
        sys.modules.pop("shop_prices", None)


def test_a_long_skill_module_is_told_by_its_public_functions():
    from codeact_magic import skills

    text = skills.python_modules(["json"])  # the standard library's json: longer than the budget
    assert "# module json (its public functions and classes)" in text
    assert "def dumps(obj, *, skipkeys=False" in text and "def _" not in text


def test_codeact_undo_without_the_extension_says_where_the_steps_are_and_lists_the_variables(ip, model, capsys):
    model.reset(code("made_here = 5\nprint(made_here)"), "Five.")
    codeact(ip, model, "make five")
    capsys.readouterr()
    assert ip.run_cell("%codeact undo").success
    out = capsys.readouterr().out
    assert "No cells to remove: without the JupyterLab extension" in out
    assert "created: made_here" in out and ip.user_ns["made_here"] == 5  # kernel state stays
    ip.user_ns.pop("made_here", None)
    # Not alone in its cell: a clear error, not a silent no-op.
    assert not ip.run_cell("x_undo = 1\n%codeact undo").success


def test_status_names_the_configured_skill_modules(ip, capsys):
    ip.run_line_magic("config", "CodeAct.skills = ['shop_prices', 'json']")
    try:
        ip.run_line_magic("codeact", "status")
        assert "skills:       shop_prices, json  (CodeAct.skills)" in capsys.readouterr().out
    finally:
        ip.run_line_magic("config", "CodeAct.skills = []")


def test_a_terminal_shows_an_answer_given_through_final_answer_with_its_markdown_drawn(ip, model, capsys):
    # It used to end with the summary line only: the answer was nowhere on the screen.
    ip.run_line_magic("config", "CodeAct.tactics = 'none,+final_answer'")
    model.reset(code("final_answer('| city | total |\\n|---|---|\\n| Oslo | **263** |')"))
    capsys.readouterr()
    _, run = codeact(ip, model, "which city?")
    out = capsys.readouterr().out
    assert run.answer.endswith("| Oslo | **263** |")
    shown = out.split("Answer:\n", 1)[1].split("[Answered", 1)[0]
    assert "Oslo" in shown and "263" in shown
    assert "**" not in shown and "|---|" not in shown  # drawn, not raw Markdown


def test_a_terminal_draws_an_answer_in_words_that_holds_a_table_once_more_under_it(ip, model, capsys):
    model.reset("| city | total |\n|---|---|\n| Oslo | **263** |")
    capsys.readouterr()
    codeact(ip, model, "which city?")
    out = capsys.readouterr().out
    assert out.count("| Oslo | **263** |") == 1  # as it streamed
    drawn = out.split("Answer:\n", 1)[1]
    assert "Oslo" in drawn and "**" not in drawn
    model.reset("It is 42.")  # plain words: shown once, as they streamed
    capsys.readouterr()
    codeact(ip, model, "six times seven")
    assert "Answer:" not in capsys.readouterr().out
