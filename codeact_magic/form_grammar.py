"""The shape of a reply that hands over an answer in the request's form, as a GBNF grammar.

After the loop shows the model the form its answer lacks (answer_form.py), the small model still
wrote the value where the name goes (``final_answer('@0 outliers')``, shown
``final_answer('@number_of_outliers[0]')``) or dropped the names. Where the server decodes under a
grammar (llama.cpp's), that one reply is held to the form's literal parts, in the form's order;
what goes in each slot is still the model's: text, or an f-string's fields over the variables its
steps made. The loop never writes a value into the form itself.
"""

from __future__ import annotations

import json

from .answer_form import AnswerForm

# A short sentence or two before the block; then the one call, in a quoted (f-)string: either
# quote, as the model likes (the form's message shows a call with single quotes), each string
# holding no quote of its own kind (nor does an f-string's field before Python 3.12). A slot holds
# anything but that quote, a backslash or a line break; brackets in it come in pairs (a list:
# ``[1, 2]``), so its closing bracket is the form's. Between the parts: a space, a comma, a
# semicolon or an escaped newline. What follows the closing fence is left open, as in
# model.CODE_GRAMMAR (the client cuts the reply there).
_RULES = r"""
prose ::= ([^`\n]{0,300} ("\n" [^`\n]{0,300}){0,2} "\n")?
call  ::= "final_answer(" "f"? ("\"" parts-d "\"" | "'" parts-s "'") ")"
sep   ::= " " | ", " | "; " | "\\n"
tail  ::= ("\n" [^`]*)?
"""
# The rules of a string's content, for its quote Q (d: double, s: single).
_QUOTED = r"""
slot-Q  ::= ([^\[\]Q\\\n{}] | "{" field-Q "}" | "[" slot-Q "]")*
label-Q ::= ([^Q\\\n{}] | "{" field-Q "}")*
field-Q ::= [^{}Q\\\n]+
"""


def form_grammar(form: AnswerForm) -> str:
    """GBNF for a reply of a few words, then one Python block that calls final_answer() once with
    a string holding every literal part of ``form`` (``@mean[``…``]``, ``Answer:`` …), in order."""
    rules = ['root  ::= prose "```python\\n" call "\\n```" tail']
    for name, quote in (("d", '"'), ("s", "'")):
        parts = [f'{json.dumps(m)} slot-{name} "]"' if m.endswith("[")
                 else f'{json.dumps(m)} " "? label-{name}' for m in form.markers]
        rules.append(f"parts-{name} ::= " + " sep ".join(parts))
        rules.append(_QUOTED.strip("\n").replace("-Q", f"-{name}").replace("Q", quote))
    return "\n".join(rules) + _RULES
