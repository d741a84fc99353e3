"""IPython in a real terminal (a pty): confirm mode asks on the console."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
from conftest import code, options


def test_confirm_mode_asks_on_the_console_and_runs_the_edit(model, tmp_path):
    model.reset(code("value = 1\nprint('value is', value)"), "Done.")
    ipython = str(Path(sys.executable).parent / "ipython")
    cell = f"%%codeact {options(model)} --mode confirm\\nset a value"
    child = pexpect.spawn(ipython, ["--no-banner", "--colors=NoColor", "--quick", "-c",
                                    f"get_ipython().run_line_magic('load_ext', 'codeact_magic'); "
                                    f"get_ipython().run_cell('{cell}')"],
                          env={**os.environ, "TERM": "dumb"}, encoding="utf-8", timeout=60)
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
