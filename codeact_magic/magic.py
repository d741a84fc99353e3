"""``%%codeact``: option parsing, and the input transformer that lets the cell await the loop.

A cell magic cannot be awaited, and the loop must await (so comm messages, a Stop, keep flowing
while it runs). So a ``%%codeact`` cell is rewritten, before IPython sees it as a magic, into an
``await`` of ``run_magic_cell``; the cell then runs as an async cell.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .interrupts import check_step_timeout

MAGIC = "%%codeact"
USAGE = (
    "%%codeact [--model MODEL] [--api-base URL] [--max-steps N] [--timeout SECONDS] [--new]\n"
    "          [--mode auto|confirm|step] [--tactics SPEC]\n"
    "<your request, in plain words, on the following lines>"
)


@dataclass(frozen=True)
class Options:
    model: str | None = None
    api_base: str | None = None
    max_steps: int | None = None
    timeout: float | None = None
    new: bool = False
    mode: str | None = None
    tactics: str | None = None
    skills: str | None = None


def _positive(kind):
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    return convert


def _seconds(text: str) -> float:
    try:
        return check_step_timeout(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if "timeout" in str(exc)
                                         else f"{text!r} is not a number") from None


@magic_arguments()
@argument("--model", "-m", help="litellm model id, or 'local' for the embedded model "
          "(default: %%config CodeAct.model, then CODEACT_MODEL, then the embedded model)")
@argument("--api-base", dest="api_base", help="base URL of an OpenAI-compatible server")
@argument("--max-steps", dest="max_steps", type=_positive(int), help="code steps the run may take")
@argument("--timeout", type=_seconds, help="seconds a step may run before it is interrupted")
@argument("--new", action="store_true", help="start a new conversation: forget the earlier runs in this kernel")
@argument("--mode", choices=("auto", "confirm", "step"),
          help="auto: run every step; confirm: approve each step; step: pause after each step")
@argument("--tactics", help="how the model is made to act and check, e.g. 'default,-restate' "
          "(see codeact_magic.tactics)")
@argument("--skills", help="skill modules the model is told of and imports, comma-separated "
          "(added to %%config CodeAct.skills)")
def codeact_cell_magic(line: str, cell: str) -> None:
    """A model answers the request written below, by running code in this kernel.

    The request goes on the lines below ``%%codeact``, in plain words. The model writes Python,
    the code runs as real cells of this kernel, the model sees the output or the traceback, and it
    goes on until it can answer. Settings not given here come from ``%config CodeAct``.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_magic_cell(line, cell))
        return
    raise UsageError(
        "%%codeact must be the first line of its own cell (it awaits, and this call cannot); "
        "from code, use: await codeact_magic.arun(request)"
    )


# magic_arguments names the magic after the function; it is registered, and typed, as %%codeact.
codeact_cell_magic.parser.prog = MAGIC
codeact_cell_magic.parser.allow_abbrev = False  # "--max-step 3" is a typo to report
codeact_cell_magic.__doc__ = codeact_cell_magic.__doc__.replace("%codeact_cell_magic", MAGIC, 1)


def parse_options(line: str) -> Options:
    try:
        args = parse_argstring(codeact_cell_magic, line)
    except UsageError as exc:
        raise UsageError(f"{exc}\nusage: {USAGE}") from None
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"{exc}\nusage: {USAGE}") from None
    return Options(**vars(args))


async def run_magic_cell(line: str, request: str) -> None:
    """What a ``%%codeact`` cell runs. Returns nothing, so no ``Out[n]`` repeats the run."""
    from .api import arun
    from .config import NoModelChosen

    options = parse_options(line)
    if not request.strip():
        raise UsageError(f"write your request on the lines below %%codeact\nusage: {USAGE}")
    try:
        await arun(request.strip("\n"), model=options.model, api_base=options.api_base,
                   max_steps=options.max_steps, timeout=options.timeout, new=options.new,
                   mode=options.mode, tactics=options.tactics, skills=options.skills)
    except NoModelChosen as exc:
        raise UsageError(str(exc)) from None


# What %codeact fix asks: the failing cell and its whole error come with it (recent_cells.py).
FIX_REQUEST = ("Cell In [{count}] failed with {error}. Find out why, run corrected code, and say in a "
               "sentence or two what was wrong and what you changed.")


async def run_fix(line: str) -> None:
    """``%codeact fix``: a run on the error of the last cell the user ran, if it failed."""
    from IPython import get_ipython

    from .recent_cells import recent_cells

    cell = recent_cells(get_ipython()).last_error()
    if cell is None:
        print("Nothing to fix: the last cell you ran did not fail (or a run came after it).")
        return
    await run_magic_cell(line, FIX_REQUEST.format(count=cell.count, error=cell.error.splitlines()[0]))


def transform(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: ``%%codeact`` cells become an ``await`` of the loop."""
    # Comment lines may come first (a cell magic must be the first line in IPython; this one need
    # not): they are the user's notes, not the request.
    first = next((i for i, line in enumerate(lines)
                  if line.strip() and not line.lstrip().startswith("#")), None)
    if first is None:
        return lines
    head = lines[first].lstrip()
    if head.split() == ["%codeact", "undo"] and len(lines) == first + 1:
        # It waits for the page's answer, which the kernel reads only while the cell awaits.
        return [*lines[:first], "await __import__('codeact_magic.undo').undo.undo_last_run()\n"]
    if head.split()[:2] == ["%codeact", "fix"] and len(lines) == first + 1:
        # A run, as a %%codeact cell is: it is awaited.
        options = head.split(None, 2)[2] if len(head.split()) > 2 else ""
        return [*lines[:first], f"await __import__('codeact_magic.magic').magic.run_fix({options.strip()!r})\n"]
    if not (head.startswith(MAGIC) and (len(head) == len(MAGIC) or head[len(MAGIC)].isspace())):
        return lines
    line = head[len(MAGIC):].strip()
    body = "".join(lines[first + 1:])
    return [f"await __import__('codeact_magic.magic').magic.run_magic_cell({line!r}, {body!r})\n"]


# A terminal asks the transformers whether the input typed so far is a whole cell (Enter runs it,
# or opens a new line). Rewritten, "%%codeact" alone would look whole and run with an empty request;
# IPython skips transformers with side effects there, so it sees a cell magic, which goes on until
# an empty line, as %%timeit or %%bash do.
transform.has_side_effects = True


def load(shell: Any) -> None:
    from .config import config_of

    config_of(shell)  # %config CodeAct works from now on
    transformers = shell.input_transformers_cleanup
    if transform not in transformers:
        # After leading_empty_lines, before the prompt strippers could touch the request's words.
        transformers.insert(1 if transformers else 0, transform)
    shell.register_magic_function(codeact_cell_magic, magic_kind="cell", magic_name="codeact")
    from .recent_cells import watch

    watch(shell)
    from .status import codeact_line_magic

    shell.register_magic_function(codeact_line_magic, magic_kind="line", magic_name="codeact")


def unload(shell: Any) -> None:
    from .recent_cells import unwatch

    unwatch(shell)
    if transform in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(transform)
