"""Whether a GBNF grammar accepts a text, decided by llama.cpp's own grammar engine: for the tests
of the loop's grammars, and to replay a grammar on stored runs (benchmarks/form_grammar_replay.py).

llama-cpp-python's ``LlamaGrammar.from_string`` only stores the text (it accepts ``root ::= "a" [``),
so a grammar is checked the way the server uses it: a grammar sampler over the embedded model's
vocabulary (loaded alone, without its weights), fed the text's tokens one by one. A token the
grammar does not allow gets a logit of -inf from the sampler; the text is accepted when none does
and the grammar may end after it.
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any


@cache
def _vocabulary() -> Any:
    import llama_cpp  # the embedded model's extra ([local])

    from ..local.weights import ensure_weights

    return llama_cpp.Llama(str(ensure_weights()), vocab_only=True, verbose=False)


def _sampler(grammar: str) -> Any:
    """llama.cpp's grammar sampler for ``grammar`` over the vocabulary; NULL (falsy) when it does
    not parse (llama.cpp logs why)."""
    import llama_cpp

    vocabulary = llama_cpp.llama_model_get_vocab(_vocabulary()._model.model)
    return llama_cpp.llama_sampler_init_grammar(vocabulary, grammar.encode(), b"root")


def parses(grammar: str) -> bool:
    """llama.cpp reads ``grammar``."""
    import llama_cpp

    sampler = _sampler(grammar)
    if sampler:
        llama_cpp.llama_sampler_free(sampler)
    return bool(sampler)


def accepts(grammar: str, text: str) -> bool:
    """A model decoding under ``grammar`` could write ``text`` and stop there."""
    import llama_cpp

    llm, sampler = _vocabulary(), _sampler(grammar)
    assert sampler, "the grammar does not parse"
    try:
        end = llm.token_eos()
        for token in [*llm.tokenize(text.encode(), add_bos=False, special=False), end]:
            candidate = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
            candidates = llama_cpp.llama_token_data_array(candidate, 1, -1, False)
            llama_cpp.llama_sampler_apply(sampler, ctypes.byref(candidates))
            if candidate[0].logit == float("-inf"):
                return False
            if token != end:
                llama_cpp.llama_sampler_accept(sampler, token)
        return True
    finally:
        llama_cpp.llama_sampler_free(sampler)
