"""Markdown as the model meant it, for frontends that render it with math (JupyterLab, Notebook 7,
VS Code, nbviewer, GitHub): a ``$`` before an amount is a currency sign, not the start of LaTeX.

"$1,250 for the hall and $900 for food" renders "1,250 for the hall and " in italic math otherwise.
Code spans and fenced blocks are left as they are: a ``\\$`` there would show the backslash.
"""

from __future__ import annotations

import re

# A lone `$` (not `$$`, not already escaped) right before a digit: "$5", "$1,250.00", "($900)".
_AMOUNT = re.compile(r"(?<![\\$])\$(?=\d)")
# Fenced blocks and inline code spans, kept whole.
_CODE = re.compile(r"(^[ \t]*(```|~~~).*?(?:^[ \t]*\2[ \t]*$|\Z)|`+[^`\n]*`+)", re.S | re.M)


def currency_as_text(markdown: str) -> str:
    """``markdown`` with each ``$`` that starts an amount escaped (``\\$``), outside code."""
    if "$" not in markdown:
        return markdown
    parts, last = [], 0
    for match in _CODE.finditer(markdown):
        parts.append(_AMOUNT.sub(r"\\$", markdown[last:match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_AMOUNT.sub(r"\\$", markdown[last:]))
    return "".join(parts)
