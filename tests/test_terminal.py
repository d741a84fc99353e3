"""IPython in a real terminal (a pty), typed as a person types: the %%codeact cell line by line, in
terminal IPython and in jupyter console; confirm mode asks on the console."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import Reply, code, options

BIN = Path(sys.executable).parent
# The terminal's own environment: the mechanics tests' profile (pinned tactics) included.
ENV = {**os.environ, "TERM": "dumb", "PYTHONWARNINGS": "ignore"}
_SGR = r"(?:\x1b\[[0-9;]*m)*"  # colour codes a prompt may hold between its characters


def prompt(n: int | None = None) -> str:
    """A regex for the prompt ``In [n]:`` (any n by default), coloured or not."""
    number = r"\d+" if n is None else str(n)
    return rf"In {_SGR}\[{_SGR}{number}{_SGR}\]{_SGR}:"


# A full-screen terminal for prompt_toolkit (IPython's own prompt, jupyter console's).
FULL = {**ENV, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}


def _confirm_run(model, editor: str):
    model.reset(code("value = 1\nprint('value is', value)"), "Done.")
    cell = f"%%codeact {options(model)} --mode confirm\\nset a value"
    return pexpect.spawn(str(BIN / "ipython"), [
        "--no-banner", "--colors=NoColor", "--quick", "-c",
        "get_ipython().run_line_magic('load_ext', 'codeact_magic'); "
        "get_ipython().run_line_magic('config', \"CodeAct.tactics = 'none'\"); "
        f"get_ipython().run_cell('{cell}')"], env={**ENV, "EDITOR": editor}, encoding="utf-8",
        timeout=60)


def test_confirm_mode_asks_on_its_own_line_and_edit_opens_the_editor(model, tmp_path):
    # An editor as IPython calls it (`$EDITOR +1 file`) that changes the code where it lies.
    editor = tmp_path / "editor"
    editor.write_text("#!/bin/sh\nsed -i 's/value = 1/value = 41 + 1/' \"$2\"\n")
    editor.chmod(0o755)
    child = _confirm_run(model, str(editor))
    # The question starts a line of its own, not glued to the reply's closing fence.
    child.expect(r"```\r?\nstep 1: \[r\]un, \[e\]dit, \[s\]kip or s\[t\]op\? ")
    child.sendline("e")
    child.expect("value is 42")
    child.expect("Answered after 1 step")
    child.expect(pexpect.EOF)
    assert "value = 41 + 1" in model.requests[1]["messages"][-2]["content"]


def test_edit_falls_back_to_typing_when_the_editor_fails(model):
    child = _confirm_run(model, "false")
    child.expect(r"step 1: \[r\]un, \[e\]dit, \[s\]kip or s\[t\]op\? ")
    child.sendline("e")
    child.expect("end with a line holding only a single '.'")
    child.sendline("value = 41 + 1")
    child.sendline("print('value is', value)")
    child.sendline(".")
    child.expect("value is 42")
    child.expect("Answered after 1 step")
    child.expect(pexpect.EOF)
    assert "value = 41 + 1" in model.requests[1]["messages"][-2]["content"]


def _type_a_cell(child: pexpect.spawn, first_line: str, request: str, continuation: str) -> None:
    """Type a %%codeact cell as a person does: Enter after each line, then Enter on empty lines
    until it runs (one in IPython's full terminal, two with --simple-prompt, as for any cell magic)."""
    child.send(first_line + "\r")  # Enter is a carriage return, as a terminal sends it
    child.expect_exact(continuation)  # Enter after the first line opens a second one: not run yet
    child.send(request + "\r")
    child.expect_exact(continuation)
    child.send("\r")
    if child.expect_exact([continuation, "step 1"]) == 0:
        child.send("\r")


@pytest.mark.parametrize("kind", ["simple", "prompt_toolkit"])
def test_a_codeact_cell_typed_line_by_line_in_terminal_ipython(model, kind):
    model.reset(code("print(6 * 7)"), "It is **42**.")
    args = ["--no-banner", "--colors=NoColor", "--no-confirm-exit"]
    if kind == "simple":
        args.append("--simple-prompt")
    child = pexpect.spawn(str(BIN / "ipython"), args, env=ENV if kind == "simple" else FULL,
                          encoding="utf-8", timeout=60, dimensions=(40, 200))
    child.expect(prompt(1))
    child.send("%load_ext codeact_magic\r")
    child.expect(prompt(2))
    _type_a_cell(child, f"%%codeact {options(model)}", "what is six times seven?", "...:")
    child.expect("It is \\*\\*42\\*\\*.")
    child.expect("Answered after 1 step")
    child.expect(prompt())
    child.send("exit\r")
    child.expect(pexpect.EOF)
    assert model.requests[0]["messages"][1]["content"].startswith("what is six times seven?")


def test_a_codeact_cell_typed_line_by_line_in_jupyter_console(model):
    # The console shows a display once and ignores updates to it: the whole answer must still show.
    model.reset(code("print(6 * 7)"), Reply("It is **42**, the product.", chunk_size=3))
    # Its --simple-prompt takes one line only: the full prompt is what people type cells in.
    child = pexpect.spawn(str(BIN / "jupyter"), ["console", "--kernel=python3"],
                          env=FULL, encoding="utf-8", timeout=90, dimensions=(40, 200))
    child.expect(prompt(1))
    child.send("%load_ext codeact_magic\r")
    child.expect(prompt(2))
    _type_a_cell(child, f"%%codeact {options(model)}", "what is six times seven?", "...:")
    child.expect("It is \\*\\*42\\*\\*, the product.")
    child.expect("Answered after 1 step")
    child.expect(prompt())
    child.send("exit\r")
    child.expect(pexpect.EOF)
    assert "RunWidget object" not in child.before
    assert model.requests[0]["messages"][1]["content"].startswith("what is six times seven?")


def test_help_shows_the_options():
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "codeact_magic")
    doc = shell.find_cell_magic("codeact").__doc__
    assert doc.lstrip(":\n ").startswith("%%codeact [--model MODEL]")
    for option in ("--max-steps", "--timeout", "--mode", "--tactics", "--new"):
        assert option in doc


def test_an_answer_handed_to_final_answer_shows_in_the_terminal_drawn(model):
    model.reset(code("final_answer('| city | total |\\n|---|---|\\n| Oslo | **263** |')"))
    cell = f"%%codeact {options(model)}\\nwhich city?"
    child = pexpect.spawn(str(BIN / "ipython"), [
        "--no-banner", "--colors=NoColor", "--quick", "-c",
        "get_ipython().run_line_magic('load_ext', 'codeact_magic'); "
        "get_ipython().run_line_magic('config', \"CodeAct.tactics = 'none,+final_answer'\"); "
        f"get_ipython().run_cell('{cell}')"], env=FULL, encoding="utf-8", timeout=60,
        dimensions=(40, 100))
    child.expect("Answer:")
    child.expect("Answered after 1 step")
    shown = child.before
    child.expect(pexpect.EOF)
    assert "Oslo" in shown and "263" in shown
    assert "**263**" not in shown and "|---|" not in shown  # a table drawn, not Markdown's source
