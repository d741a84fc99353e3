"""The shape of a reply that hands over an answer in the request's form, as a GBNF grammar.

After the loop shows the model the form its answer lacks (answer_form.py), the small model still
wrote the value where the name goes (``final_answer('@0 outliers')``, shown
``final_answer('@number_of_outliers[0]')``) or dropped the names. Where the server decodes under a
grammar (llama.cpp's), that one reply is held to the form's literal parts, in the form's order,
and to nothing else: it may hand them to final_answer() in a code block or write them in words, as
the loop takes either. What goes in each slot is the model's: text, or an f-string's fields over
the variables its steps made. The loop never writes a value into the form itself.

At temperature 0 a reply the grammar accepts is the very reply the model gives without it (the
grammar only masks tokens), so the grammar changes only the replies that would have missed the form.
"""

from __future__ import annotations

import json

from .answer_form import AnswerForm

# A code block: a few words, then the one call, in a quoted (f-)string of either quote, each string
# holding no quote of its own kind (nor does an f-string's field before Python 3.12). A slot holds
# anything but that quote, a backslash or a line break; brackets in it come in pairs (a list:
# ``[1, 2]``), so its closing bracket is the form's. Between two parts: a few characters of any
# kind but those, or an escaped newline. What follows the closing fence is left open, as in
# model.CODE_GRAMMAR (the client cuts the reply there).
# Words: the parts, in the form's order, anywhere in a reply with no code fence.
_RULES = r"""
root  ::= block | words
block ::= prose "```python\n" "final_answer(" "f"? ("\"" parts-d "\"" | "'" parts-s "'") ")" "\n```" tail
prose ::= ([^`\n]{0,300} ("\n" [^`\n]{0,300}){0,2} "\n")?
tail  ::= ("\n" [^`]*)?
words ::= [^`]{0,300} parts-w [^`]{0,300}
"""
# The rules of a string's content for its quote Q (d: double, s: single), and of words (w).
_QUOTED = r"""
slot-Q  ::= ([^\[\]Q\\\n{}] | "{" field-Q "}" | "[" slot-Q "]")*
label-Q ::= ([^Q\\\n{}] | "{" field-Q "}")*
field-Q ::= [^{}Q\\\n]+
sep-Q   ::= ([^\[\]Q\\\n{}@] | "\\n"){0,40}
"""
_WORDS = r"""
slot-w  ::= ([^\[\]\n`] | "[" slot-w "]")*
label-w ::= [^\n`]*
sep-w   ::= [^\[\]`@]{0,40}
"""


def form_grammar(form: AnswerForm) -> str:
    """GBNF for a reply that gives every literal part of ``form`` (``@mean[``…``]``, ``Answer:``
    …), in order: as the string of one final_answer() call in a Python block after a few words, or
    in words."""
    rules = []
    for name in ("d", "s", "w"):
        parts = [f'{json.dumps(m)} slot-{name} "]"' if m.endswith("[")
                 else f'{json.dumps(m)} label-{name}' for m in form.markers]
        rules.append(f"parts-{name} ::= " + f" sep-{name} ".join(parts))
        if name != "w":
            quote = '"' if name == "d" else "'"
            rules.append(_QUOTED.strip("\n").replace("-Q", f"-{name}").replace("Q", quote))
    return _RULES.lstrip("\n") + "\n".join(rules) + _WORDS
