"""`codeact run`: a request on a notebook from the command line, end to end (a real kernel, the
scripted model server, the written notebook read back with nbformat)."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

import nbformat
import pytest
from conftest import MODEL, code

pytestmark = pytest.mark.kernel


def notebook(path, *sources: str) -> bytes:
    cells = [nbformat.v4.new_markdown_cell(s[3:]) if s.startswith("md:") else nbformat.v4.new_code_cell(s)
             for s in sources]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                                         "display_name": "Python 3"}})
    nbformat.write(nb, path)
    return path.read_bytes()


def codeact(server, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL", "PYTEST_CURRENT_TEST")}
    return subprocess.run([sys.executable, "-m", "codeact_magic", "run", *args, "--model", MODEL,
                           "--api-base", server.url], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_a_request_on_a_notebook_writes_the_transcript_after_its_cells(tmp_path, model):
    source = tmp_path / "analysis.ipynb"
    original = notebook(source, "x = 21", "md:Some notes.", "print('ready')")
    out = tmp_path / "out.ipynb"
    model.reset(code("y = x * 2\nprint(y)"), "It is **42**.")
    done = codeact(model, str(source), "double x", "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert source.read_bytes() == original  # --output: the notebook itself is untouched
    assert "step 1 · In [" in done.stdout and "It is **42**." in done.stdout
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    before = nbformat.read(source, as_version=4).cells
    assert [c.source for c in nb.cells[:3]] == [c.source for c in before]
    assert [c.get("outputs") for c in nb.cells[:3]] == [c.get("outputs") for c in before]  # never changed
    magic, step, answer = nb.cells[3:]
    assert magic.source == f"%%codeact --model {MODEL} --api-base {model.url}\ndouble x"
    assert step.source == "y = x * 2\nprint(y)" and step.cell_type == "code"
    assert [o.get("text") for o in step.outputs] == ["42\n"]
    assert isinstance(step.execution_count, int) and step.execution_count > magic.execution_count - 2
    assert step.metadata.codeact["step"] == 1 and step.metadata.codeact["status"] == "done"
    assert step.metadata.codeact["magic_cell"] == magic.id and "codeact-generated" in step.metadata.tags
    assert answer.cell_type == "markdown" and answer.source == "It is **42**."
    assert answer.metadata.codeact["step"] == "answer"
    # The model saw the state the notebook's cells built (x was there, not invented).
    assert "x: int = 21" in model.requests[0]["messages"][-1]["content"]


def test_a_failing_cell_stops_before_the_request_and_writes_nothing(tmp_path, model):
    source = tmp_path / "broken.ipynb"
    original = notebook(source, "x = 1", "1 / 0", "y = 2")
    model.reset("never asked")
    done = codeact(model, str(source), "use x")
    assert done.returncode == 3
    assert "cell 2 of broken.ipynb failed (ZeroDivisionError" in done.stdout and "--allow-errors" in done.stdout
    assert source.read_bytes() == original and model.requests == []
    # Told to go on, it does (in place this time).
    model.reset(code("print(x, y)"), "x is 1 and y is 2.")
    done = codeact(model, str(source), "use x", "--allow-errors")
    assert done.returncode == 0, done.stdout + done.stderr
    nb = nbformat.read(source, as_version=4)
    assert nb.cells[-1].source == "x is 1 and y is 2." and nb.cells[-2].outputs[0]["text"] == "1 2\n"


def test_a_run_that_does_not_answer_exits_non_zero(tmp_path, model):
    source = tmp_path / "n.ipynb"
    notebook(source, "z = 0")
    model.reset(code("print(1)"), code("print(2)"), code("print(3)"))
    done = codeact(model, str(source), "loop", "--max-steps", "2")
    assert done.returncode == 1 and "Stopped after 2 steps" in done.stdout
    nb = nbformat.read(source, as_version=4)
    assert [c.metadata.get("codeact", {}).get("status") for c in nb.cells[2:]] == ["done", "done"]


def test_a_kernel_that_dies_mid_run_leaves_the_notebook_as_it_was(tmp_path, model):
    source = tmp_path / "dies.ipynb"
    original = notebook(source, "a = 1")
    model.reset(code("import os\nos._exit(1)"), "never asked")
    done = codeact(model, str(source), "crash")
    assert done.returncode == 4 and "the kernel died" in done.stdout
    assert source.read_bytes() == original
    assert not [p for p in tmp_path.iterdir() if p.name != "dies.ipynb"]  # no temporary file left


def test_runs_export_as_fine_tuning_records_in_each_format(tmp_path, model, monkeypatch):
    import json

    source = tmp_path / "nb.ipynb"
    notebook(source, "prices = [3, 4]")
    model.reset(code("print(sum(prices))", "I add them."), "The total is 7.")
    assert codeact(model, str(source), "total of prices").returncode == 0
    model.reset("Hi!")
    assert codeact(model, str(source), "hello", "--no-execute-first").returncode == 0
    last = nbformat.read(source, as_version=4).cells[-1]
    assert last.metadata.codeact["conversation"][-1] == {"role": "assistant", "content": "Hi!"}

    def export(fmt, *extra):
        out = tmp_path / f"{fmt}.jsonl"
        done = subprocess.run([sys.executable, "-m", "codeact_magic", "export", str(source), "--format", fmt,
                               "-o", str(out), *extra], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in out.read_text().splitlines()]

    from codeact_magic.cli.export import check_openai

    first, second = export("openai")
    for rec in (first, second):
        check_openai(rec)  # roles, alternation, no empty content, ends on the assistant
    roles = [m["role"] for m in first["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert first["messages"][1]["content"].startswith("total of prices")
    assert first["messages"][2]["content"] == code("print(sum(prices))", "I add them.")
    assert first["messages"][3]["content"] == "Execution result:\n7"
    assert first["messages"][4]["content"] == "The total is 7."
    [sg, _] = export("sharegpt")
    assert [c["from"] for c in sg["conversations"]] == ["system", "human", "gpt", "human", "gpt"]
    assert [c["value"] for c in sg["conversations"]] == [m["content"] for m in first["messages"]]
    [alpaca, _] = export("alpaca")
    assert alpaca["instruction"] == first["messages"][1]["content"] and alpaca["input"] == ""
    assert alpaca["output"].startswith("Assistant: I add them.") and alpaca["output"].endswith("The total is 7.")
    assert "Execution result:\n7" in alpaca["output"]


def test_export_reads_benchmark_outcomes_and_keeps_secrets_out(tmp_path, monkeypatch):
    import json

    from codeact_magic.cli.export import export

    monkeypatch.setenv("SHOP_TOKEN", "tok-live-123456789")
    rows = [{"task": "q1", "status": "answered", "score": {"solved": True}, "trajectory": [
                {"role": "system", "content": "sys"}, {"role": "user", "content": "q1?"},
                {"role": "assistant", "content": "print(token)  # tok-live-123456789"},
                {"role": "user", "content": "Execution result:\nghp_" + "a" * 36},
                {"role": "user", "content": "Before your answer is final..."},
                {"role": "assistant", "content": "42"}]},
            {"task": "q2", "status": "answered", "score": {"solved": False}, "trajectory": [
                {"role": "user", "content": "q2?"}, {"role": "assistant", "content": "no"}]},
            {"task": "q3", "status": "stopped", "score": {"solved": False}, "trajectory": [
                {"role": "user", "content": "q3?"}, {"role": "assistant", "content": ""}]}]
    results = tmp_path / "run.jsonl"
    results.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    assert export([results], "openai", out, only_solved=True) == (1, 2)
    [rec] = [json.loads(line) for line in out.read_text().splitlines()]
    text = json.dumps(rec)
    assert "tok-live-123456789" not in text and "ghp_aaaa" not in text
    # Two user messages in a row (feedback, then the loop's own note) become one turn.
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert export([results], "openai", out, only_answered=True) == (2, 1)


def dabench_folder(root: Path) -> Path:
    """Three questions in DABench's own format (questions, labels, tables), so the command runs
    the harness and its scoring without the dev set."""
    import json

    (root / "tables").mkdir(parents=True)
    (root / "tables" / "t.csv").write_text("a,b\n1,2\n3,4\n")
    questions = [{"id": i, "question": f"Question {i}?", "constraints": "none", "format": "@answer[x]",
                  "file_name": "t.csv", "level": "easy"} for i in (1, 2, 3)]
    labels = [{"id": i, "common_answers": [["answer", "1" if i == 2 else "5"]]} for i in (1, 2, 3)]
    (root / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions) + "\n")
    (root / "labels.jsonl").write_text("\n".join(json.dumps(a) for a in labels) + "\n")
    return root


def test_a_benchmark_step_cannot_install_packages_into_the_pinned_environment(tmp_path, model):
    import json

    from scripted_server import Reply

    data = dabench_folder(tmp_path / "dabench")
    # A package this environment does not have, asked for as the small model did (selenium).
    step = ("import subprocess, sys\n"
            "r = subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-deps', "
            "'tomli-w==1.0.0'], capture_output=True, text=True)\n"
            "print('exit', r.returncode, r.stdout, r.stderr)")
    replies = iter([Reply(f"Installing.\n```python\n{step}\n```"), Reply("@answer[1]")])
    model.default = lambda body: next(replies)
    env = {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL", "PYTEST_CURRENT_TEST")}
    done = subprocess.run([sys.executable, "-m", "codeact_magic", "bench", "dabench", "--data", str(data),
                           "--limit", "1", "--model", MODEL, "--api-base", model.url, "--out", str(tmp_path / "out"),
                           "--tactics", "none"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = json.loads((tmp_path / "out" / "dabench.jsonl").read_text().splitlines()[0])
    output = run["trajectory"][3]["content"]
    assert "exit 1" in output and "Would install" not in output, output


def test_bench_writes_outcomes_export_reads_and_a_report(tmp_path, model):
    import json

    from scripted_server import Reply

    data = dabench_folder(tmp_path / "dabench")
    model.default = lambda body: Reply("@answer[1]")
    out = tmp_path / "bench"
    env = {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL", "PYTEST_CURRENT_TEST")}
    done = subprocess.run([sys.executable, "-m", "codeact_magic", "bench", "dabench", "--data", str(data),
                           "--limit", "3", "--model", MODEL, "--api-base", model.url, "--out", str(out),
                           "--tactics", "none,+nudge"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [json.loads(line) for line in (out / "dabench.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(r["harness"] == "ours" and r["trajectory"] for r in rows)
    assert all(r["trajectory"][-1] == {"role": "assistant", "content": "@answer[1]"} for r in rows)
    assert [r["score"]["solved"] for r in rows] == [False, True, False]  # the benchmark's scoring
    assert all(r["follow_ups"] == ["nudge"] for r in rows)  # an answer without code was sent back
    # Each question alone: no earlier question's conversation, no harness cell told as the user's.
    assert all([m["role"] for m in r["trajectory"]][:2] == ["system", "user"] for r in rows)
    assert not any("Cells the user ran" in m["content"] or "earlier run" in m["content"]
                   for r in rows for m in r["trajectory"])
    report = (out / "dabench.md").read_text()
    assert f"3 questions, {MODEL}" in report and "| ours" in report and "DAAgent-7B 51.4 %" in report
    assert "What the loop sent back (runs, of them solved): nudge 3 (1)" in report
    # What the figures were made with: a report from other library versions is another measurement.
    import pandas
    assert f"pandas {pandas.__version__}" in report and "Python 3." in report
    exported = tmp_path / "train.jsonl"
    done = subprocess.run([sys.executable, "-m", "codeact_magic", "export", str(out / "dabench.jsonl"),
                           "--format", "sharegpt", "-o", str(exported)], capture_output=True, text=True)
    assert done.returncode == 0 and len(exported.read_text().splitlines()) == 3
