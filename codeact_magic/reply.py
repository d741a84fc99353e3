"""Reading a model's reply: code to run, a final answer, or a reply that ended before it was whole.

The loop matches on what ``read_reply`` returns: ``Code``, ``Answer``, ``Foreign``, ``Cut`` or
``Empty``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

# An opening fence for code we run: ```python, ```py, ```py3, ```ipython, ```python3 or a bare ```,
# with attributes after the language if any (```python title="x.py").
_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*(?:(?:python3?|py3?|ipython3?)(?:[ \t]+[^`]*)?)?[ \t]*$",
                   re.IGNORECASE)
_ANY_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*(\S*)")
_PYTHON = {"python", "python3", "py", "py3", "ipython", "ipython3"}
# Fences that hold text or data, not code someone could mean to run.
_PROSE = {"", "text", "txt", "plaintext", "output", "out", "result", "markdown", "md", "json",
          "jsonl", "csv", "tsv", "yaml", "yml", "toml", "xml", "html", "log", "diff", "latex", "math"}


@dataclass(frozen=True)
class ParsedReply:
    text: str  # the reply cut right after its first code block: only this goes into the history
    code: str | None  # that block's code, or None for a final answer
    closed: bool = True  # False while (or if) the block's closing fence has not arrived
    before: str = ""  # the prose before the code block

    def with_code(self, code: str) -> str:
        """This reply with ``code`` in its code block (the user's edit of it)."""
        if code == self.code:
            return self.text
        return f"{self.before}```python\n{code.rstrip()}\n```"


def parse_reply(text: str) -> ParsedReply:
    """Find the first Python (or untagged) fenced block; blocks in other languages are prose."""
    lines = text.splitlines(keepends=True)
    pos = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.rstrip("\r\n")
        opener = _ANY_OPEN.match(stripped)
        if opener is None:
            pos += len(line)
            i += 1
            continue
        fence = opener.group(1)
        runnable = _OPEN.match(stripped) is not None
        # Find the matching close: the same fence character, at least as long, alone on its line.
        # In code, a fence that opens another block (```output) closes it too: small models write
        # their invented output that way, without closing the code first.
        j = i + 1
        close_pos = pos + len(line)
        opens_next = False
        while j < len(lines):
            candidate = lines[j].strip()
            if candidate and set(candidate) == {fence[0]} and len(candidate) >= len(fence):
                break
            following = _ANY_OPEN.match(candidate) if runnable else None
            if following and following.group(1)[0] == fence[0] and following.group(2):
                opens_next = True
                break
            close_pos += len(lines[j])
            j += 1
        closed = j < len(lines)
        if runnable:
            code = "".join(lines[i + 1 : j])
            if opens_next:
                return ParsedReply(text[:close_pos] + fence, code.rstrip("\n") + "\n", True, text[:pos])
            if closed:
                end = close_pos + len(lines[j].rstrip("\r\n"))
                return ParsedReply(text[:end], code.rstrip("\n") + "\n", True, text[:pos])
            # An unclosed block (the reply hit its token limit, or is still streaming).
            return ParsedReply(text, code.rstrip("\n") + "\n" if code.strip() else code, False, text[:pos])
        # Prose fence (```text, ```output, ```bash...): skip past it whole.
        if not closed:
            return ParsedReply(text, None, False, text[:pos])
        pos = close_pos + len(lines[j])
        i = j + 1
    return ParsedReply(text, None, True)


# ---- what a whole reply is, for the loop ----

@dataclass(frozen=True)
class Code:
    """A closed code block to run. ``parsed`` keeps the prose before it, for the user's edits."""

    parsed: ParsedReply

    @property
    def code(self) -> str:
        assert self.parsed.code is not None
        return self.parsed.code


@dataclass(frozen=True)
class Answer:
    """A reply without code: the model's final answer in words."""

    text: str


@dataclass(frozen=True)
class Cut:
    """A reply that ended before it was whole: never run, never taken as an answer.

    ``length``: the token limit ended it; ``unclosed``: it ended inside a code block (or another
    fenced block), so the block's end is missing (a server that cut the reply, a model that stopped
    too early).
    """

    text: str
    reason: Literal["length", "unclosed"]


@dataclass(frozen=True)
class Foreign:
    """A reply whose code is in another language (```bash, ```javascript...) and holds no Python:
    nothing of it runs here. It may be the answer (a shell script the user asked for), or code the
    model meant to run."""

    text: str
    language: str


@dataclass(frozen=True)
class Empty:
    """Nothing but whitespace."""


Reply = Code | Answer | Foreign | Cut | Empty


def _foreign_language(text: str) -> str | None:
    """The language of the first fenced block tagged with one that is not Python, text or data."""
    for line in text.splitlines():
        opener = _ANY_OPEN.match(line)
        if opener and _OPEN.match(line) is None:
            language = opener.group(2).strip("{}.").split("=")[0].lower()
            if language not in _PROSE and language not in _PYTHON:
                return language
    return None


def _unfenced_final_answer(text: str) -> ParsedReply | None:
    """A reply that calls final_answer(...) without a code fence (small models do): that call."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines or not lines[-1].lstrip().startswith("final_answer("):
        return None
    call = lines[-1].strip()
    if not _ends_in_final_answer(call):
        return None
    before = text[: text.rstrip().rfind(call)]
    return ParsedReply(f"{before}```python\n{call}\n```", call + "\n", True, before)


def _ends_in_final_answer(code: str) -> bool:
    """The code parses and its last statement is a whole final_answer(...) call."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    last = tree.body[-1] if tree.body else None
    return (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Name) and last.value.func.id == "final_answer"
            and code.rstrip().endswith(")"))


def read_reply(text: str, finish_reason: str | None) -> Reply:
    """What ``text`` is, given why its stream ended (``finish_reason`` as the provider said it:
    "stop", "length"..., or "code" when the client cut it after its first code block)."""
    parsed = parse_reply(text)
    if parsed.code is not None and parsed.closed:
        return Code(parsed)  # a whole code block, whatever came (or would have come) after it
    if not text.strip():
        return Empty()
    if finish_reason == "length":
        return Cut(text, "length")
    if not parsed.closed and parsed.code and finish_reason != "length" and _ends_in_final_answer(parsed.code):
        # The model ended its turn right after handing over its answer, without the closing fence
        # (small models do): a block whose last statement is a whole final_answer() call is whole.
        return Code(ParsedReply(f"{text.rstrip()}\n```", parsed.code, True, parsed.before))
    if not parsed.closed:
        # The reply ended inside a fence. (litellm reports "stop" for a stream that simply ended,
        # so the finish reason cannot tell a cut stream from a whole one: the open fence can.)
        return Cut(text, "unclosed")
    if (call := _unfenced_final_answer(text)) is not None:
        return Code(call)  # it runs as the code it is, so the answer is the value, not the call's text
    if (language := _foreign_language(text)) is not None:
        return Foreign(text, language)
    return Answer(text)
