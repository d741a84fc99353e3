"""``%%codeact``: option parsing, and the input transformer that lets the cell await the loop.

A cell magic cannot be awaited, and the loop must await (so comm messages, a Stop, keep flowing
while it runs). So a ``%%codeact`` cell is rewritten, before IPython sees it as a magic, into an
``await`` of ``run_magic_cell``; the cell then runs as an async cell.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

MAGIC = "%%codeact"
USAGE = (
    "%%codeact [--model MODEL] [--api-base URL] [--max-steps N] [--timeout SECONDS] [--new]\n"
    "          [--mode auto|confirm|step]\n"
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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit the kernel's process otherwise
        raise UsageError(f"{message}\nusage: {USAGE}")


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


def _parser() -> _Parser:
    p = _Parser(prog="%%codeact", add_help=False, exit_on_error=False, allow_abbrev=False)
    p.add_argument("--model", "-m")
    p.add_argument("--api-base", dest="api_base")
    p.add_argument("--max-steps", dest="max_steps", type=_positive(int))
    p.add_argument("--timeout", type=_positive(float))
    p.add_argument("--new", action="store_true")
    p.add_argument("--mode", choices=("auto", "confirm", "step"))
    return p


def parse_options(line: str) -> Options:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{exc}\nusage: {USAGE}") from None
    try:
        args = _parser().parse_args(words)
    except argparse.ArgumentError as exc:
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
                   mode=options.mode)
    except NoModelChosen as exc:
        raise UsageError(str(exc)) from None


def transform(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: ``%%codeact`` cells become an ``await`` of the loop."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return lines
    head = lines[first].lstrip()
    if not (head.startswith(MAGIC) and (len(head) == len(MAGIC) or head[len(MAGIC)].isspace())):
        return lines
    line = head[len(MAGIC):].strip()
    body = "".join(lines[first + 1:])
    return [f"await __import__('codeact_magic.magic').magic.run_magic_cell({line!r}, {body!r})\n"]


def codeact_cell_magic(line: str, cell: str) -> None:
    """The plain cell magic, for direct calls such as ``run_cell_magic('codeact', ...)``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_magic_cell(line, cell))
        return
    raise UsageError(
        "%%codeact must be the first line of its own cell (it awaits, and this call cannot); "
        "from code, use: await codeact_magic.arun(request)"
    )


def load(shell: Any) -> None:
    from .config import config_of

    config_of(shell)  # %config CodeAct works from now on
    transformers = shell.input_transformers_cleanup
    if transform not in transformers:
        # After leading_empty_lines, before the prompt strippers could touch the request's words.
        transformers.insert(1 if transformers else 0, transform)
    shell.register_magic_function(codeact_cell_magic, magic_kind="cell", magic_name="codeact")
    from .status import codeact_line_magic

    shell.register_magic_function(codeact_line_magic, magic_kind="line", magic_name="codeact")


def unload(shell: Any) -> None:
    if transform in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(transform)
