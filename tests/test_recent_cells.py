"""The notebook as context (codeact_magic.recent_cells): the cells the user ran since the last run
come with the request, secrets redacted; ``%codeact fix`` works on the last cell's error."""

from __future__ import annotations

from conftest import code, options

import codeact_magic


def cell(ip, source: str):
    return ip.run_cell(source, store_history=True)


def request_of(server) -> str:
    [message] = [m for m in server.requests[0]["messages"] if m["role"] == "user"][-1:]
    return message["content"]


def test_the_cells_the_user_ran_come_with_the_request(ip, model):
    ip.run_line_magic("config", "CodeAct.show_cells = 'all'")
    cell(ip, "%config CodeAct.max_steps = 5")  # magics only: nothing to tell
    cell(ip, "weights = [3, 4, 5]")
    cell(ip, "heavy = sum(weights)\nheavy")
    cell(ip, "weights.mean()")
    failed_at = ip.execution_count - 1
    model.reset("A list has no mean() method; use sum(weights) / len(weights).")
    ip.run_cell(f"%%codeact {options(model)}\nwhy did that fail?", store_history=True)
    told = request_of(model)
    assert told.startswith("why did that fail?\n\nCells the user ran just before this request, latest last:\n")
    assert "weights = [3, 4, 5]" in told and "Its value: 12" in told
    assert "max_steps" not in told
    # The latest cell failed: its whole error, as a step's would be told.
    assert told.index("Its value: 12") < told.index(f"In [{failed_at}]:\n```python\nweights.mean()\n```\n"
                                                    "It failed:\nTraceback")
    assert "AttributeError: 'list' object has no attribute 'mean'" in told

    # The next run is told only the cells after this one: not the %%codeact cell, not these again.
    cell(ip, "weights.append(6)")
    model.reset("Done.")
    ip.run_cell(f"%%codeact {options(model)}\nand now?", store_history=True)
    told = request_of(model)
    assert "weights.append(6)" in told and "weights.mean()" not in told and "%%codeact" not in told


def test_only_the_last_three_cells_and_not_a_runs_steps(ip, model):
    ip.run_line_magic("config", "CodeAct.show_cells = 'all'")
    for i in range(5):
        cell(ip, f"step_value_{i} = {i}")
    model.reset(code("print('from a step')"), "Ok.")
    ip.run_cell(f"%%codeact {options(model)}\ngo", store_history=True)
    told = request_of(model)
    assert [f"step_value_{i} = {i}" in told for i in range(5)] == [False, False, True, True, True]
    model.reset("Ok.")
    ip.run_cell(f"%%codeact {options(model)}\nagain", store_history=True)
    assert "Cells the user ran" not in request_of(model).split("again", 1)[1]  # the step was the run's


def test_a_secret_a_cell_showed_is_not_sent(ip, model, monkeypatch):
    ip.run_line_magic("config", "CodeAct.show_cells = 'all'")
    monkeypatch.setenv("DEMO_SERVICE_API_KEY", "sk-demo-0123456789abcdef")
    cell(ip, "import os\nos.environ['DEMO_SERVICE_API_KEY']")
    model.reset("Ok.")
    ip.run_cell(f"%%codeact {options(model)}\nwhat did I look at?", store_history=True)
    told = request_of(model)
    assert "Its value:" in told and "sk-demo-0123456789abcdef" not in told


def test_by_default_only_a_failing_last_cell_is_told_and_none_when_switched_off(ip, model):
    cell(ip, "prices = [3, 4]")
    cell(ip, "prices.mean()")
    model.reset("Lists have no mean().")
    ip.run_cell(f"%%codeact {options(model)}\nwhy?", store_history=True)
    told = request_of(model)
    assert "prices.mean()" in told and "AttributeError" in told and "prices = [3, 4]" not in told
    cell(ip, "total = sum(prices)")  # ran well: not told by default
    model.reset("Ok.")
    ip.run_cell(f"%%codeact {options(model)}\nand now?", store_history=True)
    assert "Cells the user ran" not in request_of(model)
    ip.run_line_magic("config", "CodeAct.show_cells = 'none'")
    cell(ip, "colour = 'blue'")
    model.reset("Ok.")
    ip.run_cell(f"%%codeact {options(model)}\nwhat colour?", store_history=True)
    assert "Cells the user ran" not in request_of(model)


def test_codeact_fix_works_on_the_error_of_the_last_cell(ip, model, capsys):
    cell(ip, "sizes = [1, 2]\nsizes[5]")
    failed_at = ip.execution_count - 1
    model.reset(code("sizes = [1, 2]\nprint(sizes[-1])"), "It read past the end of the list.")
    assert ip.run_cell(f"%codeact fix {options(model)}", store_history=True).success
    run = codeact_magic.last_run()
    assert run.request.startswith(f"Cell In [{failed_at}] failed with IndexError: list index out of range.")
    assert "sizes[5]" in request_of(model) and "Traceback" in request_of(model)
    assert run.status == "answered" and run.steps[0].output == "2"
    # Nothing failed since: nothing to fix, and no model call.
    model.reset()
    capsys.readouterr()
    assert ip.run_cell(f"%codeact fix {options(model)}", store_history=True).success
    assert "Nothing to fix" in capsys.readouterr().out and model.requests == []


def test_a_cell_kept_out_of_the_history_is_not_the_users(ip, model):
    ip.run_line_magic("config", "CodeAct.show_cells = 'all'")
    # A frontend's own executions (a variable explorer, an inspection) are not stored in history.
    cell(ip, "visible_cell = 1")
    ip.run_cell("inspected = 2", store_history=False)
    model.reset("Ok.")
    ip.run_cell(f"%%codeact {options(model)}\nwhat did I run?", store_history=True)
    told = request_of(model)
    assert "visible_cell = 1" in told and "inspected = 2" not in told
