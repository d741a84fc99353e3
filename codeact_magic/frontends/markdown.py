"""Markdown as the model meant it, for frontends that render it with math (JupyterLab, Notebook 7,
VS Code, nbviewer, GitHub): a ``$`` before an amount is a currency sign, not the start of LaTeX.

"$1,250 for the hall and $900 for food" renders "1,250 for the hall and " in italic math otherwise.
Markdown's own escape does not do: JupyterLab pairs the dollars after Markdown has dropped the
backslash (jupyterlab#8645; it wants ``\\\\$``, which GitHub and nbconvert show with its backslash).
What works in all of them is the character as an HTML entity in an element of its own: no ``$``
for the Markdown math pass to pair, and MathJax does not pair delimiters across elements.
Code spans and fenced blocks are left as they are (HTML there would show as text).
"""

from __future__ import annotations

import re

# A lone `$` (not `$$`, not escaped) right before a digit: "$5", "$1,250.00", "($900)".
_AMOUNT = re.compile(r"(?<![\\$])\$(?=\d)")
_DOLLAR = "<span>&#36;</span>"
# Fenced blocks and inline code spans, kept whole.
_CODE = re.compile(r"(^[ \t]*(```|~~~).*?(?:^[ \t]*\2[ \t]*$|\Z)|`+[^`\n]*`+)", re.S | re.M)


def currency_as_text(markdown: str) -> str:
    """``markdown`` with each ``$`` that starts an amount made text, outside code."""
    if "$" not in markdown:
        return markdown
    parts, last = [], 0
    for match in _CODE.finditer(markdown):
        parts.append(_AMOUNT.sub(_DOLLAR, markdown[last:match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_AMOUNT.sub(_DOLLAR, markdown[last:]))
    return "".join(parts)
