"""What the user decides during a run: approving each step (``confirm``), pausing after each step
(``step``), and stopping. The loop asks; a frontend (the run widget, the console) answers.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Mode = Literal["auto", "confirm", "step"]
MODES: tuple[str, ...] = ("auto", "confirm", "step")


@dataclass(frozen=True)
class Decision:
    action: Literal["run", "skip", "stop"]
    code: str = ""  # what to run: the proposed code, or the user's edit of it


class Control(Protocol):
    mode: Mode

    @property
    def stop_requested(self) -> bool: ...

    async def approve(self, index: int, code: str) -> Decision: ...

    async def resume(self, index: int) -> bool:
        """After step ``index`` in ``step`` mode: True to go on, False to stop."""
        ...


class AutoControl:
    """Runs everything, never pauses; stopping is the kernel's interrupt."""

    mode: Mode = "auto"
    stop_requested = False

    async def approve(self, index: int, code: str) -> Decision:
        return Decision("run", code)

    async def resume(self, index: int) -> bool:
        return True


class ConsoleControl:
    """For IPython in a terminal: asks on the console."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.stop_requested = False

    @staticmethod
    def available() -> bool:
        return sys.stdin is not None and sys.stdin.isatty()

    async def _ask(self, prompt: str) -> str:
        # In a thread, so the event loop (and Ctrl-C) stays responsive while the user reads. On a
        # line of its own: the streamed reply before it may end without one (after its fence).
        return (await asyncio.to_thread(input, "\n" + prompt)).strip().lower()

    @staticmethod
    def _edit_in_editor(code: str) -> str | None:
        """``code`` as the user left it in their editor (IPython's: ``$EDITOR``, else vi), or None
        if no editor ran."""
        from IPython import get_ipython
        from IPython.core.error import TryNext

        shell = get_ipython()
        if shell is None:
            return None
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "codeact_step.py"
            path.write_text(code)
            try:
                shell.hooks.editor(str(path), 1)
            except (TryNext, OSError):
                return None
            return path.read_text()

    async def approve(self, index: int, code: str) -> Decision:
        if self.mode != "confirm":
            return Decision("run", code)
        while True:
            answer = await self._ask(f"step {index}: [r]un, [e]dit, [s]kip or s[t]op? ")
            if answer in ("r", "run", ""):
                return Decision("run", code)
            if answer in ("s", "skip"):
                return Decision("skip", code)
            if answer in ("t", "stop"):
                self.stop_requested = True
                return Decision("stop", code)
            if answer in ("e", "edit"):
                edited = await asyncio.to_thread(self._edit_in_editor, code)
                if edited is not None:
                    return Decision("run", edited if edited.endswith("\n") else edited + "\n")
                print("Type the code to run; end with a line holding only a single '.'")
                lines = []
                while (line := await asyncio.to_thread(input)) != ".":
                    lines.append(line)
                return Decision("run", "\n".join(lines) + "\n")

    async def resume(self, index: int) -> bool:
        if self.mode != "step":
            return True
        answer = await self._ask(f"step {index} done: [c]ontinue or s[t]op? ")
        if answer in ("t", "stop"):
            self.stop_requested = True
            return False
        return True
