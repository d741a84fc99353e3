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


def _highlight(code: str, language: str, _attrs: str = "") -> str:
    """A code block as HTML with inline colours (no stylesheet needed in any widget frontend)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else PythonLexer()
    except ClassNotFound:
        lexer = PythonLexer()
    return highlight(code, lexer, HtmlFormatter(nowrap=True, noclasses=True))


def highlighted(code: str) -> str:
    """Python code as highlighted HTML (a ``<pre>`` of its own)."""
    return f'<pre class="codeact-highlighted">{_highlight(code, "python")}</pre>'


def to_html(markdown: str) -> str:
    """The model's Markdown as HTML: code blocks highlighted; raw HTML in it shown as text, never
    run (markdown-it with ``html`` off), and links only of safe schemes (its default check)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable("table")
    return md.render(markdown)
