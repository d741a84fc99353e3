"""Reading a model's reply: the first runnable code block, or else a final answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

# An opening fence for code we run: ```python, ```py, ```ipython, ```python3 or a bare ```.
_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*(python3?|py|ipython3?)?[ \t]*$", re.IGNORECASE)
_ANY_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*(\S*)")


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
        j = i + 1
        close_pos = pos + len(line)
        while j < len(lines):
            candidate = lines[j].strip()
            if candidate and set(candidate) == {fence[0]} and len(candidate) >= len(fence):
                break
            close_pos += len(lines[j])
            j += 1
        closed = j < len(lines)
        if runnable:
            code = "".join(lines[i + 1 : j])
            if closed:
                end = close_pos + len(lines[j].rstrip("\r\n"))
                return ParsedReply(text[:end], code.rstrip("\n") + "\n", True, text[:pos])
            # An unclosed block (the reply hit its token limit, or is still streaming).
            return ParsedReply(text, code.rstrip("\n") + "\n" if code.strip() else code, False, text[:pos])
        # Prose fence (```text, ```output, ```bash...): skip past it whole.
        if not closed:
            break
        pos = close_pos + len(lines[j])
        i = j + 1
    return ParsedReply(text, None, True)
