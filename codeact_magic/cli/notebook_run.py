"""``codeact run NOTEBOOK "REQUEST"``: a request on a notebook, from a script or a scheduled job.

A kernel is started for the notebook (in its folder), the notebook's code cells run first so the
request sees the state they build, then a ``%%codeact`` cell with the request is appended and run.
This process plays the JupyterLab extension's part of the comm protocol, so the written notebook
holds the transcript a JupyterLab user gets: each step as a code cell with its outputs, execution
count and ``metadata.codeact``, the answer as a Markdown cell. Cells that were there are never
changed (their saved outputs stay as they were). The notebook is written once, at the end, through
a temporary file: a crash leaves the original as it was.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import nbformat
from nbformat import NotebookNode

from .kernel_session import KernelDied, KernelSession
from .transcript import Displays, Transcript, add_output, drop_empty_outputs

FRONTEND = "codeact-cli-" + uuid.uuid4().hex[:8]

# Exit statuses: what a script or a scheduler can act on.
ANSWERED, NOT_ANSWERED, CANNOT_START, CELL_FAILED, KERNEL_DIED = 0, 1, 2, 3, 4


@dataclass
class RunOptions:
    notebook: Path
    request: str
    output: Path | None = None  # None: the notebook itself
    model: str | None = None
    api_base: str | None = None
    max_steps: int | None = None
    timeout: float | None = None
    execute_first: bool = True
    allow_errors: bool = False
    kernel_name: str | None = None


def magic_line(options: RunOptions) -> str:
    """The ``%%codeact`` line with the options a reader of the notebook should see (never a key)."""
    parts = ["%%codeact"]
    for flag, value in (("--model", options.model), ("--api-base", options.api_base),
                        ("--max-steps", options.max_steps), ("--timeout", options.timeout)):
        if value is not None:
            parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


def _with_cell_ids(nb: NotebookNode) -> None:
    """Cells need ids for a run to find its cell (nbformat 4.5); an older notebook is upgraded."""
    if nb.nbformat_minor < 5:
        nb.nbformat_minor = 5
    for cell in nb.cells:
        if not cell.get("id"):
            cell["id"] = uuid.uuid4().hex[:8]


def write_atomically(nb: NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".ipynb", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Progress:
    """What the terminal shows while the run goes on."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.mid_line = False

    def say(self, text: str) -> None:
        if self.mid_line:
            self.out.write("\n")
            self.mid_line = False
        self.out.write(text + "\n")
        self.out.flush()

    def token(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
        self.mid_line = not text.endswith("\n")


class _RunFrontend:
    """Plays the extension's part for the one ``%%codeact`` cell it runs."""

    def __init__(self, session: KernelSession, nb: NotebookNode, cell: NotebookNode,
                 progress: _Progress) -> None:
        self.session, self.nb, self.cell, self.progress = session, nb, cell, progress
        self.transcript: Transcript | None = None
        self.comm_id: str | None = None
        self.final: dict[str, Any] | None = None
        self._displays: Displays = {}

    def on_message(self, message: dict[str, Any]) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "comm_open" and content.get("target_name") == "codeact_magic":
            data = content.get("data") or {}
            if data.get("cell_id") == self.cell.id and data.get("version") == 1:
                self.comm_id = content["comm_id"]
                self.transcript = Transcript(self.nb, self.cell.id, data)
                self.session.comm_send(self.comm_id, {"type": "hello_ack", "version": 1,
                                                      "frontend": FRONTEND})
        elif kind == "comm_msg" and content.get("comm_id") == self.comm_id and self.transcript:
            self._on_run_message(content.get("data") or {})
        elif kind in ("stream", "display_data", "execute_result", "error"):
            add_output(self.cell, nbformat.v4.output_from_msg(message) | (
                {"transient": content["transient"]} if content.get("transient") else {}), self._displays)
        elif kind == "update_display_data":
            add_output(self.cell, {"output_type": "update_display_data", "data": content.get("data", {}),
                                   "metadata": content.get("metadata", {}),
                                   "transient": content.get("transient", {})}, self._displays)
        elif kind == "clear_output":
            add_output(self.cell, {"output_type": "clear_output"}, self._displays)

    def _on_run_message(self, data: dict[str, Any]) -> None:
        assert self.transcript is not None
        kind = data.get("type")
        if kind == "token":
            self.progress.token(data.get("text", ""))
        elif kind == "waiting":
            self.progress.say(f"[{data.get('text', '')}]")
        elif kind == "followup":
            self.progress.say(f"[↻ {data.get('label', '')}]")
        elif kind == "step_started":
            self.transcript.step_started(data)
            self.progress.say(f"── step {data['index']}: running ──")
        elif kind == "output":
            self.transcript.output(data["index"], data["output"])
        elif kind == "step_done":
            self.transcript.step_done(data)
            error = data.get("error") or {}
            status = {"ok": "done", "timeout": "timed out"}.get(data.get("status"),
                                                               f"failed: {error.get('ename', 'error')}")
            self.progress.say(f"── step {data['index']} · In [{data.get('execution_count')}] · {status} "
                              f"({data.get('seconds', 0):.1f} s) ──")
        elif kind == "final":
            self.transcript.final(data)
            self.final = data


def run_notebook(options: RunOptions, out: TextIO = sys.stdout) -> int:
    progress = _Progress(out)
    path = options.notebook
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:
        progress.say(f"codeact run: cannot read {path}: {exc}")
        return CANNOT_START
    _with_cell_ids(nb)
    kernel_name = options.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    try:
        session = KernelSession(kernel_name, path.resolve().parent)
    except Exception as exc:  # no such kernel, or it never became ready
        progress.say(f"codeact run: cannot start the kernel '{kernel_name}': {exc}")
        return CANNOT_START

    # Ctrl-C: the first one stops the run (the kernel's interrupt, as the ■ button), and the
    # notebook is still written; a second one leaves at once, writing nothing.
    interrupted = []

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(True)
        progress.say("[interrupting the run: Ctrl-C again to leave without writing]")
        session.interrupt()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        loaded = session.execute("%load_ext codeact_magic", silent=True)
        if loaded.get("status") != "ok":
            progress.say(f"codeact run: the kernel could not load codeact_magic: "
                         f"{loaded.get('ename')}: {loaded.get('evalue')}")
            return CANNOT_START
        if options.execute_first:
            for number, cell in enumerate(nb.cells, 1):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                reply = session.execute(cell.source, cell_id=cell.id)
                if reply.get("status") == "error":
                    where = f"cell {number} of {path.name}"
                    if not options.allow_errors:
                        progress.say(f"codeact run: {where} failed ({reply.get('ename')}: "
                                     f"{reply.get('evalue')}), so the request was not run and the "
                                     "notebook was not written. Fix the cell, or pass --allow-errors "
                                     "to go on.")
                        return CELL_FAILED
                    progress.say(f"[{where} failed ({reply.get('ename')}); going on]")
        cell = nbformat.v4.new_code_cell(source=f"{magic_line(options)}\n{options.request}")
        nb.cells.append(cell)
        frontend = _RunFrontend(session, nb, cell, progress)
        reply = session.execute(cell.source, cell_id=cell.id, on_message=frontend.on_message)
        cell.execution_count = reply.get("execution_count")
        drop_empty_outputs(cell)
    except KernelDied as exc:
        progress.say(f"codeact run: {exc}; {path.name} was left as it was.")
        return KERNEL_DIED
    finally:
        signal.signal(signal.SIGINT, previous)
        session.close()

    target = options.output or path
    write_atomically(nb, target)
    final = frontend.final
    if final is None:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        progress.say(f"codeact run: the run did not start: {text.strip() or reply.get('evalue') or 'no reason given'}")
        progress.say(f"[wrote {target}]")
        return NOT_ANSWERED
    if final.get("note"):
        progress.say(final["note"])
    progress.say(f"[{final.get('summary', '')}] [wrote {target}]")
    return ANSWERED if final.get("status") == "answered" else NOT_ANSWERED
