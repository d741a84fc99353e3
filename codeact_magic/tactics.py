"""How the loop gets a model to act and check before it answers: each tactic can be turned on or
off, so that each is measured against the others on whole benchmark sets (benchmarks/).

The defaults are the combination that won on those benchmarks; the note of each says what it is
for. A spec string names a combination: ``"default,-check"``, ``"none,+final_answer"``,
``"default,require_code=always"``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

RequireCode = Literal["never", "first", "always"]
Context = Literal["names", "rich", "source"]


@dataclass(frozen=True)
class Tactics:
    # The model's code ends a task by calling final_answer(value): the answer is a value code
    # computed, with no retyping (and the system prompt and its example say so).
    final_answer: bool = True
    # Which replies must hold code: the first one (so every run starts by acting), every one (an
    # answer then only comes through final_answer), or none. Enforced where the server takes a
    # grammar (the embedded model); elsewhere a first reply without code gets the nudge instead.
    # Off by default: on the DABench slice the grammar-forced first reply solved 10 of 20 against
    # 11 of 20 without it, slower (median 40 s against 28 s), and it forces code on a greeting.
    require_code: RequireCode = "never"
    # A run's first reply without code is sent back once: compute it, or say it needs no code.
    nudge: bool = True
    # When the request comes with things to use (the kernel's variables and functions, files it
    # names), its message ends by asking for code that uses them first and the answer last: a
    # small model obeys the last words it reads, and a request ending "only output the answer"
    # otherwise gets an answer from memory.
    act_first: bool = True
    # ... asking for code that calls what the request needs of them and prints what it returns,
    # to look at a result before using it (in place of "uses what is listed above and prints what
    # it finds"). Off until measured on whole sets.
    look_first: bool = False
    # ... when what is listed holds functions, asking first for a short numbered plan (each step:
    # the listed function it calls, the request's values it passes), then the code: as a ReAct
    # "Thought" or smolagents' planning step, in the same reply (no extra call). On M3ToolEval the
    # small model writes code at once that leaves out a value the request gives (the quantity of
    # "100 units") or guesses a web page's URL. Only requests that come with functions: DABench
    # (files) is not reached. Off: on M3's trade group whole (17, stop 35) 1 solved against 1, 12 %
    # more prompt tokens; the plans named the functions in their listed order, a number of the
    # request in 1, and the first step left out one the request gives in 9, as without it. Travel
    # (15): 0 solved against 0 (5 stall stops became wrong answers).
    plan_first: bool = False
    # Code that defines again a function or class the user gave (listed with the request), or
    # types out data over a variable the user gave (``sales = [("Oslo", 120), ...]``), is not run,
    # once: the model is told to use the given one. A request that names the function
    # ("fix parse_date") may redefine it.
    keep_given: bool = True
    # ... and sent again after that, the code runs without its definitions of them: the given ones
    # stay (the model sees the code that ran as its step). smolagents' executor refuses every
    # assignment to a tool's name; sent again, the small model's copy otherwise replaced a
    # benchmark's tool for the rest of the run. Off until measured on whole sets.
    drop_given: bool = False
    # Code that types out data (two or more numbers or names) that neither the request, what it
    # lists, nor any output has shown is not run, once: the model is told those values are guesses
    # and to get them with code (unseen_values.py). On M3ToolEval's web browsing the small model
    # typed out prices in 5 of 17 runs and summed them. Off until measured on whole sets.
    unseen_data: bool = False
    # An answer (in words, or typed as a literal into final_answer()) that gives numbers no output,
    # step code or the request showed, to their precision, is not taken, once: the model is told
    # to compute them (answer_numbers.py). On DABench the small model filled the slots of the form
    # it had not computed with numbers such as 1234.56: replayed on the recorded runs it fires in 2
    # of the 156 (none of M3ToolEval's 82, none of the dev tasks); run again, 1 solved against 0.
    unseen_answer: bool = True
    # A part of the answer in the request's form that holds no value (``@p_value[nan]``,
    # ``Answer: None``) is met as an answer that is no value: the model is told once where such a
    # value comes from (missing data, an empty selection) and to compute it again (answer_form.py).
    # On DABench the small model answered 6 of 156 questions so, 5 wrong. Off until measured.
    no_value_parts: bool = False
    # When the model is about to answer, it is shown the request again and asked for the answer
    # exactly in the form the request asks for.
    restate: bool = True
    # ... also when the answer is a value code handed to final_answer() and the request states no
    # form with literal parts (answer_form.py) to hold it against. Off: on the dev tasks (no form)
    # the same 11 of 12 solved without it, at 1,307 prompt tokens per solved task against 2,096
    # and a median of 6.6 s a task against 10.8; in 48 such reviews of four earlier runs none
    # changed an answer. Every request of DABench and M3ToolEval states a form: they keep the review.
    restate_formless: bool = False
    # The first answer after steps, when the request gives whole numbers above 10 that no step's
    # code used, is sent back once, in place of the review or the form's message: those numbers
    # with the request's words around them ("exchanging 100 units of space ore"), and code that
    # uses them asked for (unused_numbers.py). On M3ToolEval's trade tasks the small model priced
    # one unit of "100 units" in 10 of its 16 wrong answers; the same numbers appended to "give the
    # final answer now" left the answer unchanged in 8 of 10. Off: run again on every run it
    # reaches (9 trade tasks, DABench 574), 0 solved against 0; told, the model assigned
    # ``units = 200`` and used it nowhere, or sent its code again.
    unused_numbers: bool = False
    # When the request gives the answer's form with literal parts ("@mean[value]", "'Answer: ...'")
    # and the answer lacks them, the model is shown that form and what is missing, once, in place
    # of the restated request (answer_form.py).
    answer_form: bool = True
    # ... and when the form has one slot and the answer is one value, that value is shown put in the
    # form ("That is: final_answer('@total[42]')"). Shown the form alone, the small model handed
    # over the bare value again in 10 of the 14 such runs of DABench that held the right value.
    # One number with its unit ("20 outliers") counts as that value, and the values of one
    # final_answer(a, b) call go one per slot: on the 9 DABench questions where these fired, 5
    # solved against 2.
    fill_form: bool = True
    # ... and the model's reply to that message, where the server decodes under a grammar (the
    # embedded model), is held to the form's literal parts, in order: one final_answer("...") call
    # whose string has every part, or the parts in words; the slots are the model's own (text or an
    # f-string's fields; form_grammar.py). Shown the form filled, the small model still wrote
    # final_answer('@0 outliers') for '@number_of_outliers[0]' (6 of the 15 DABench runs that ended
    # out of the form held the right values). At temperature 0 it changes only the replies that
    # miss the form: on DABench whole (stops 30 and 31) the grammar refused 18 of the 82 replies to
    # the form's message; run again with it, on the 14 whose conversation was the same up to that
    # message, 9 solved against 0.
    form_grammar: bool = True
    # A step that passes final_answer() one part of the request's form per call
    # (final_answer('@r[0.3]'), then final_answer('@p[0.01]')): the parts are joined into the one
    # answer, in the order called. Without it the last call's value is the answer, and the parts
    # before it are lost (DABench 495 and 730 held every value right that way). On DABench whole
    # (stops 30 and 31) it fired in 3 of 156: 495 solved (run again without it, its first reply
    # differed and it was not), 730 run again without it on the same conversation: not solved
    # either way, 309 not solved. The whole-set figure with form_grammar was made with it on.
    join_parts: bool = True
    # A step that passes final_answer() several different values that are not the form's parts
    # (one call per candidate): none is taken, and the model is told to call it once, with the
    # whole answer. Without it the last value is the answer. Lost on DABench whole (0 of 4
    # against 1): off.
    one_answer: bool = False
    # A step shows the value of every expression statement that is data, not only the last one's
    # (IPython's own ``ast_node_interactivity = "all"``, for the step). On M3ToolEval's web browsing
    # the small model wrote ``view()`` on a line of its own, then clicked a URL it guessed. Off: at
    # the defaults it solved 0 of the 34 web tasks (a page's text reached the model in 14), and on
    # the DABench questions it changes it lost one (376 with data only; 521 with every value).
    show_expressions: bool = False
    # After a step, the calls it made to the functions the user gave, with their arguments and
    # what each returned (call_trace.py), as a tool-calling agent reads its tools' results; a result
    # the output printed already is not repeated. On M3ToolEval's web browsing the small model
    # clicked a URL it guessed and parsed the view inside a function, never printed: the browser's
    # "[URL not found.]" reached no one. Off: on the whole web group (stop 32) it fired in 26 of 34,
    # 0 solved against 0, 15 % more prompt tokens; shown the pages, the model still answered None.
    # On the travel group (15, stop 34): fired in 11, 0 solved against 0, 13 stall stops against 11.
    show_calls: bool = False
    # A step whose code computes a whole number of 2**53 or more as a float (``math.pow(2, 100)``,
    # ``factorial(30) / factorial(10)``, ``float(10**20)``) is followed, once, by what the float
    # loses and the int expression that is exact (inexact_floats.py); an answer that step gave is
    # not taken. On the dev tasks the small model summed the digits of ``str(math.pow(2, 100))``,
    # met ``int('.')`` and cut characters off the float's text to the stall stop; told, it wrote
    # ``str(2 ** 100)``: 12 of 12 against 11. It fires only where such code runs: in none of
    # M3ToolEval's 82 stored runs nor DABench's 156 (81 read from stored steps, 75 run again), so
    # it changes no other run at temperature 0.
    inexact_floats: bool = True
    # Before an answer is taken, the model is asked once to check it against the outputs.
    check: bool = False
    # The same code again, or the same error three times: the model is told what it repeated (and
    # the line that fails, when it is an error) and asked for another way once, before the run
    # gives up. The repeated reply is not kept in the conversation.
    stall_warning: bool = True
    # A step that fails on the same line, with the same error, as the step before: the model is
    # told that line is unchanged and to change it. Off: on half of DABench it fired in runs it
    # solved none of, and the small model answered it by sending its code again (a stall).
    same_line: bool = False
    # ... and when the stall is on failing code, the warning shows the values its failing line
    # works on, as error_values would (failing_values.py; a generator expression's sequence too):
    # told "print a few of the values it works on", the small model sent the same code again. On
    # the dev tasks it wrote ``sum(int(d) for d in str(math.pow(2, 100)))`` and, failing on
    # ``d = '.'``, cut the string's last character and sent that twice. Off: shown the float's
    # text, it split it at the point and answered 1; on the 10 DABench stalls it fired in (paired)
    # 0 solved against 0, 2 stall stops became wrong answers; on M3ToolEval's travel group (15) it
    # fired in 11: 0 solved against 0, 8 stall stops against 11, 37 % more prompt tokens.
    stall_values: bool = False
    # The previous step's code a third time, after the warning: asked once more, that reply
    # sampled (temperature 0.7) where the model decodes greedily, before the run gives up. So is a
    # reply that went round one line until the length limit cut it (``scroll_down()`` 333 times),
    # without that reply kept: asked again greedily, the model wrote the same loop.
    resample: bool = True
    # A stall the warning did not end, on failing code: the conversation starts again from the
    # request, the failed attempts left out (a small model copies them) and summed up in a few
    # lines: the error, its line, what the steps made (fresh_start.py). Before resample; off until
    # measured.
    fresh_start: bool = False
    # A failed step's error is followed by the DataFrames its code names, as they are after it:
    # real column names, dtypes, first rows (step_frames.py). Most stalls on DABench were data
    # guessed wrong (a column name, a column of strings). Off until measured on whole sets.
    error_context: bool = False
    # A failed step's error is followed by the values its failing line works on, as the frame that
    # raised has them: type, length, a bounded repr (failing_values.py). On M3ToolEval most stalls
    # were a line written for a shape the model never looked at (a dict where a tool returns a list
    # of dicts), sent again after its traceback. Off until measured on whole sets.
    error_values: bool = False
    # A failed step's NameError or KeyError is followed by the name the kernel has near the missing
    # one: a variable ("did you mean mRNA_sequence?"), a column of a DataFrame or a key of a dict
    # the code names (' WINDSPEED', as a CSV header "a, b" makes it), or what it has when nothing
    # is near (suggestions.py). On DABench no run that met a KeyError was solved; with it, on the whole
    # set, 1 of the 16 it fired in (0 without) and 8 stall stops against 9, at the same tokens.
    # Also a module used but not imported (its import), a module import of what the kernel has.
    suggest: bool = True
    # ... and an AttributeError: the near attribute, or the call that does what the missing method
    # was taken for (abs(z) for an array's missing .abs(): what scipy's zscore returns, on DABench).
    # Off: on the 6 DABench questions where it fired, 0 solved against 1 without it (told, the
    # model sent its line again, then dropped the abs), 1 stall stop against 3.
    attribute_help: bool = False
    # A step Python could not read: the model is told that none of its lines ran (its traceback
    # names one line, and the small model took the lines above it for done), and for an f-string,
    # the {...} in it that is not an expression, or the string's own quote used inside it before
    # Python 3.12 (syntax_fault.py): CPython 3.11 says "f-string: invalid syntax" and points at
    # the string's start. Off: on the 5 DABench questions where it fired, 0 solved with it and
    # without; in the 3 whose f-string it named, the model sent the same line again to the stop.
    syntax_help: bool = False
    # A failed call whose arguments its function does not take (an unexpected keyword, one
    # missing, one too many) is followed by that function's parameters, looked up without running
    # anything (call_signature.py): scikit-learn's mean_squared_error lost ``squared`` in 1.6, the
    # small model remembers it, and the error does not even name the function. Off: on the 4
    # DABench questions where it fired, 0 solved with it and without (13 % more prompt tokens).
    signature: bool = False
    # What the model is told of the kernel: "names" (a line per variable), "rich" (callables'
    # signatures and docs, DataFrames' columns, dtypes and rows, the files the request names) or
    # "source" (rich, and the user's short functions with their code, a function that takes a
    # builtin's name said to be that function). On M3ToolEval's trade tasks the small model divided
    # a tariff "in %" by 100 before a tool that divides it again, and called the travel tools'
    # sum(*args) with a list. Off until measured on whole sets.
    context: Context = "rich"
    # A file the request names whose header writes names with spaces around them ("DATE TIME,
    # WINDSPEED, DIR": pandas reads ' WINDSPEED') is said to, with the strip that mends it, before
    # any code reads it: on DABench every run over such a table met the KeyError first, and after
    # suggest's message the small model still wrote the bare name or read the file with
    # header=None. Off: on the 13 DABench questions it reaches, 2 solved with it and 2 without
    # (2 gained on leading spaces, 2 lost on trailing ones), 7 stall stops against 4.
    header_spaces: bool = False


DEFAULT = Tactics()
# The 0.1 loop, for comparison: plain answers in words, nothing sent back, a line per variable.
NONE = Tactics(final_answer=False, require_code="never", nudge=False, act_first=False, look_first=False, plan_first=False,
               keep_given=False, drop_given=False, unseen_data=False, unseen_answer=False, no_value_parts=False, restate=False, unused_numbers=False, answer_form=False, fill_form=False, form_grammar=False, check=False,
               stall_warning=False, same_line=False, resample=False, fresh_start=False, error_context=False,
               error_values=False, show_expressions=False, show_calls=False,
               suggest=False, attribute_help=False, inexact_floats=False, syntax_help=False, signature=False, join_parts=False, one_answer=False,
               context="names", header_spaces=False)
_BASES = {"default": DEFAULT, "none": NONE}


def parse(spec: str | Tactics | None) -> Tactics:
    """``"default"``, ``"none"``, then ``+name`` / ``-name`` / ``name=value`` changes, comma-separated."""
    if spec is None:
        return DEFAULT
    if isinstance(spec, Tactics):
        return spec
    tactics = DEFAULT
    known = {f.name: f for f in fields(Tactics)}
    for i, part in enumerate(p.strip() for p in spec.split(",") if p.strip()):
        if i == 0 and part in _BASES:
            tactics = _BASES[part]
            continue
        if "=" in part:
            name, value = (x.strip() for x in part.split("=", 1))
        elif part[0] in "+-":
            name, value = part[1:], part[0] == "+"
        else:
            name, value = part, True
        if name not in known:
            raise ValueError(f"unknown tactic {name!r}; known: {', '.join(known)}")
        default = getattr(DEFAULT, name)
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "on", "off", "1", "0"):
                    raise ValueError(f"tactic {name} is on or off, not {value!r}")
                value = value.lower() in ("true", "on", "1")
        elif name == "require_code":
            if value is True:
                value = "first"
            elif value is False:
                value = "never"
            if value not in ("never", "first", "always"):
                raise ValueError(f"require_code is never, first or always, not {value!r}")
        elif name == "context":
            if value not in ("names", "rich", "source"):
                raise ValueError(f"context is names, rich or source, not {value!r}")
        tactics = replace(tactics, **{name: value})
    return tactics


def describe(tactics: Tactics) -> str:
    """The spec that gives ``tactics`` from the defaults (``"default"`` when it is the defaults)."""
    changes = []
    for f in fields(Tactics):
        value, default = getattr(tactics, f.name), getattr(DEFAULT, f.name)
        if value != default:
            changes.append(("+" if value else "-") + f.name if isinstance(value, bool)
                           else f"{f.name}={value}")
    return ",".join(["default", *changes])


def may_be_a_guess(answer: str) -> bool:
    """A first answer without code that may come from memory: it states a figure, or it is short
    (a value, a name, a date). A paragraph of prose without figures explains; sent back, a small
    model ran the system prompt's example instead of explaining again."""
    return any(c.isdigit() for c in answer) or len(answer.split()) <= 40
