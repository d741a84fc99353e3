"""The cells a run writes into a notebook, built from the comm protocol's messages
(docs/protocol.md): what the JupyterLab extension does in the page, done on an nbformat notebook.

Step cells go right after the ``%%codeact`` cell (after the cells of its earlier runs), each with
its outputs, execution count and ``metadata.codeact``; the answer becomes a Markdown cell. Cells that
were there before are never modified.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat import NotebookNode

TAG = "codeact-generated"


def _meta(cell: NotebookNode) -> dict | None:
    return cell.get("metadata", {}).get("codeact")


Displays = dict[str, list[tuple[NotebookNode, int]]]  # display_id -> (cell, output position)


def add_output(cell: NotebookNode, output: dict[str, Any], displays: Displays) -> None:
    """Put one nbformat output (or a clear_output / update_display_data) into ``cell``, as a
    notebook frontend does."""
    kind = output.get("output_type")
    display_id = (output.get("transient") or {}).get("display_id")
    body = {k: v for k, v in output.items() if k not in ("transient", "wait")}
    if kind == "clear_output":
        cell.outputs = []
        for shown in displays.values():
            shown[:] = [(c, i) for c, i in shown if c is not cell]
    elif kind == "update_display_data":
        for shown_in, position in displays.get(display_id or "", []):
            if position < len(shown_in.outputs):
                shown_in.outputs[position] = nbformat.from_dict({**body, "output_type": "display_data"})
    elif kind == "stream" and cell.outputs and cell.outputs[-1].get("output_type") == "stream" \
            and cell.outputs[-1].get("name") == body.get("name"):
        cell.outputs[-1]["text"] += body.get("text", "")  # one output per run of a stream
    else:
        cell.outputs.append(nbformat.from_dict(body))
        if display_id:
            displays.setdefault(display_id, []).append((cell, len(cell.outputs) - 1))


def drop_empty_outputs(cell: NotebookNode) -> None:
    """Displays left blank (the run widget's place where no widget manager showed it)."""
    cell.outputs = [o for o in cell.outputs
                    if not (o.get("output_type") == "display_data"
                            and not any(str(v).strip() for v in o.get("data", {}).values()))]


class Transcript:
    def __init__(self, nb: NotebookNode, magic_cell_id: str, hello: dict[str, Any]) -> None:
        self.nb = nb
        self.magic_cell_id = magic_cell_id
        self.hello = hello
        self._steps: dict[int, NotebookNode] = {}
        self._last: NotebookNode | None = None
        self._displays: Displays = {}

    def _index(self, cell: NotebookNode) -> int:
        return next(i for i, c in enumerate(self.nb.cells) if c is cell)

    def _insertion_index(self) -> int:
        if self._last is not None:
            return self._index(self._last) + 1
        magic = next(i for i, c in enumerate(self.nb.cells) if c.get("id") == self.magic_cell_id)
        i = magic + 1
        # After the transcripts of this cell's earlier runs, never above them.
        while i < len(self.nb.cells) and (_meta(self.nb.cells[i]) or {}).get("magic_cell") == self.magic_cell_id:
            i += 1
        return i

    def _insert(self, cell: NotebookNode) -> NotebookNode:
        self.nb.cells.insert(self._insertion_index(), cell)
        self._last = cell
        return cell

    def meta(self, step: int | str, status: str, usage: dict | None = None) -> dict[str, Any]:
        return {"run_id": self.hello.get("run_id"), "step": step, "model": self.hello.get("model"),
                "magic_cell": self.magic_cell_id, "status": status, "usage": usage}

    def step_started(self, msg: dict[str, Any]) -> None:
        cell = nbformat.v4.new_code_cell(source=msg["code"].rstrip("\n"),
                                         metadata={"codeact": self.meta(msg["index"], "running"),
                                                   "tags": [TAG]})
        self._steps[msg["index"]] = self._insert(cell)

    def output(self, index: int, output: dict[str, Any]) -> None:
        cell = self._steps.get(index)
        if cell is not None:
            add_output(cell, output, self._displays)

    def step_done(self, msg: dict[str, Any]) -> None:
        cell = self._steps.get(msg["index"])
        if cell is None:
            return
        cell.execution_count = msg.get("execution_count")
        status = "done" if msg.get("status") == "ok" else msg.get("status", "error")
        cell.metadata["codeact"] = self.meta(msg["index"], status, msg.get("usage"))

    def final(self, msg: dict[str, Any]) -> None:
        if msg.get("answer"):
            self._insert(nbformat.v4.new_markdown_cell(
                source=msg["answer"], metadata={"codeact": self.meta("answer", "done", msg.get("usage")),
                                                "tags": [TAG]}))
        for index, cell in self._steps.items():
            if cell.metadata["codeact"]["status"] == "running":
                cell.metadata["codeact"] = self.meta(index, "interrupted")
        if self._last is not None and msg.get("messages"):
            # The conversation the model had, for `codeact export`: on the run's last cell.
            self._last.metadata["codeact"] = {**self._last.metadata["codeact"],
                                              "run_status": msg.get("status"),
                                              "conversation": msg["messages"]}
