"""`codeact run`: a request on a notebook from the command line, end to end (a real kernel, the
scripted model server, the written notebook read back with nbformat)."""

from __future__ import annotations

import os
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
