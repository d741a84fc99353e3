"""A notebook run by nbclient (as `jupyter execute` or CI does): the run's record lands in the file."""

from __future__ import annotations

import nbformat
import pytest
from conftest import code, options
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel


def test_codeact_cells_run_headless_and_leave_a_readable_record(model, tmp_path):
    model.reset(code("counts = {'a': 3, 'b': 5}\nprint(max(counts, key=counts.get))"),
                "The largest is **b** (5).")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext codeact_magic"),
        nbformat.v4.new_code_cell(f"%%codeact {options(model)}\nWhich key has the largest count?"),
        nbformat.v4.new_code_cell("print(counts['b'])"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)
    outputs = saved.cells[1].outputs
    markdown = [o["data"]["text/markdown"] for o in outputs if o.get("data", {}).get("text/markdown")]
    # A display updated in place is stored with its final content: the answer, once.
    assert markdown[-1] == "The largest is **b** (5)."
    streams = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "b\n" in streams
    plain = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "Answered after 1 step" in plain
    # The user's next cell sees what the step defined.
    assert saved.cells[2].outputs[0]["text"] == "5\n"
