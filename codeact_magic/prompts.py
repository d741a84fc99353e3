"""Prompt templates as data, with presets per model family.

Templates are filled with ``str.replace`` on their named placeholders (not ``str.format``), so a
user's template may contain literal braces, as Python code in a one-shot example does.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, replace

from .answer_form import filled_form
from .call_signature import Signature
from .call_trace import Call
from .failing_line import FailingLine
from .failing_values import FailedOn, Value
from .final_answer import is_nothing
from .inexact_floats import InexactFloat
from .suggestions import Near
from .syntax_fault import SyntaxFault
from .unused_numbers import UnusedNumber

_INTRO = '''\
You are a careful Python assistant working inside the user's live Jupyter kernel. You solve the \
user's task by writing Python code; the kernel runs it and shows you the real output; then you \
continue until you can answer.
'''

SYSTEM_TEMPLATE = _INTRO + '''
How to work:
- To run code, write one short sentence, then exactly one ```python code block, and stop right \
after the block. Never write the output yourself: you will be sent the real one.
- Variables and imports persist between steps and are shared with the user. Print what you need \
to see; the value of a last bare expression is shown too.
- If the code fails, read the error and fix it. Do not repeat code that already failed.
- Do not call input(): nobody can type into it.
- When you have the answer, reply in plain words (Markdown) with no code block. That ends the task.
{python_modules}
Example:
User: How many days are there from 2024-01-01 to 2024-03-01?
Assistant: I will compute it with datetime.
```python
from datetime import date
print((date(2024, 3, 1) - date(2024, 1, 1)).days)
```
User: Execution result:
60
Assistant: There are **60** days from 2024-01-01 to 2024-03-01.
'''

# With final_answer() in the kernel: the answer is a value the code computed. The example shows
# the answer put in the form the request asks. (An example that handed over a bare variable,
# tried because the 1.5B model once copied "days" into an unrelated answer, cost DABench its
# @name[value] forms: 5 of 14 questions against 9 of the same 14.)
SYSTEM_FINAL_ANSWER_TEMPLATE = _INTRO + '''
How to work:
- Reply with one short sentence, then exactly one ```python code block, and stop right after the \
block: you will be sent its real output. Never write the output yourself. Only the first code \
block of a reply runs.
- Get every number and fact of your answer from code: never guess a value or invent data.
- Use what the user gave you: the variables, functions and files listed with the request.
- Variables and imports persist between steps. Print what you need to see.
- If the code fails, read the error and change the code. Do not repeat code that failed.
- Do not call input(): nobody can type into it.
- When the output shows the result, call final_answer(answer) in a code block. answer is what the \
user gets, in exactly the form the request asks for. That ends the task.
- Only a request that needs no code at all (a greeting, a general question) is answered in plain \
words without a code block.
{python_modules}
Example:
User: How many days are there from 2024-01-01 to 2024-03-01? Answer in the form "<number> days".
Assistant: I will compute it with datetime.
```python
from datetime import date
days = (date(2024, 3, 1) - date(2024, 1, 1)).days
print(days)
```
User: Execution result:
60
Assistant: The output shows 60, so I give it in the form asked.
```python
final_answer(f"{days} days")
```
'''

OUTPUT_TEMPLATE = "Execution result:\n{execution_feedback}"

ERROR_TEMPLATE = (
    "Execution failed:\n{execution_feedback}\n"
    "Fix the code and run it again, or answer in plain words if it cannot be done."
)

VARIABLES_TEMPLATE = (
    "Variables already in the kernel (use them as they are; do not redefine them):\n{variables}"
)

# The user's latest cells since the last run (recent_cells.py): what "that" and "it" may refer to.
CELLS_TEMPLATE = "Cells the user ran just before this request, latest last:\n{cells}"

FILES_TEMPLATE = "Files the request names (read them with code; do not guess what they hold):\n{files}"
# A named file whose header writes names with spaces around them (tactic: header_spaces): said
# before any code reads it. After the KeyError it otherwise meets (suggest's message), the small
# model still wrote the bare name in later steps, or read the file with header=None to "fix" it.
HEADER_SPACES_TEMPLATE = (
    "The header of {file} writes its names with spaces around them ({names}): strip the column "
    "names right after reading the file, and they read as the request writes them: "
    "df.columns = df.columns.str.strip()"
)

# Ends a request that comes with things to use (tactic: act_first). {answer_how} is how the
# answer is given: through final_answer(), or in words.
ACT_FIRST_TEMPLATE = (
    "Work on this with code first: reply with one ```python block that uses what is listed above "
    "and prints what it finds. Give the answer only after you have seen the output, {answer_how}, "
    "in the form the request asks."
)

# The same, asking to look before using (tactic: look_first): on M3ToolEval the small model calls
# every function listed, needed or not, and for a web browser writes a function that guesses a URL
# and parses a page it has never printed.
LOOK_FIRST_TEMPLATE = (
    "Work on this with code first: reply with one ```python block that calls what the request needs "
    "of what is listed above and prints what it returns; look at a result before you use it. Give "
    "the answer only after you have seen the output, {answer_how}, in the form the request asks."
)

# The same, when what is listed holds functions, asking for a plan before the code (tactic:
# plan_first): the small model otherwise writes code at once that leaves out values the request
# gives, or calls a function with a guess where another function's result was needed.
PLAN_FIRST_TEMPLATE = (
    "Work on this with code first. Begin your reply with a short numbered plan: for each step, the "
    "function listed above it calls and the values of the request it uses. Then write one "
    "```python block for the plan and print what it finds. Give the answer only after you have "
    "seen the output, {answer_how}, in the form the request asks."
)

# A run's first reply came without code (tactic: nudge). The way out for a request that needs no
# code comes first: a small model follows the last thing it is told, and it was "give your
# answer again".
NUDGE_TEMPLATE = (
    "You answered without running any code. The request was:\n{request}\n\n"
    "Only if it needs no code at all (a greeting, a question about concepts) give your answer again, "
    "in words. Otherwise run code for it now: reply with one ```python block that computes it"
    "{with_what}, and answer from its output."
)

# The model is about to answer (tactics: restate, check). {request} is the user's request, {answer}
# the answer so far. An answer handed to final_answer() is confirmed by the same call again.
RESTATE_TEMPLATE = "Before your answer is final, read the request again:\n{request}\n\n"
CHECK_TEMPLATE = ("Before your answer is final, check it: every number in it must come from the "
                  "outputs above, and it must answer the request.\n\n")
REVIEW_CODE_TEMPLATE = (
    "If {answer} is exactly what the request asks for, in the form it asks (names, rounding, units), "
    "send the same final_answer call again. If not, call final_answer with the corrected answer."
)
# The answer lacks the literal parts of the form the request gives (tactic: answer_form).
FORM_TEMPLATE = (
    "Your answer {answer} is not in the form the request asks for:\n{form}\n\nIt lacks {missing}. "
    "Give the same values in exactly that form: {how}."
)
# ... and when the form has one slot and the answer is one value: that value in the form. Shown the
# form alone, a small model handed over the bare value again ("0.32" for @correlation[value]).
FORM_FILLED_TEMPLATE = " That is: {filled}"
# final_answer() was handed nothing (None, an empty value): that answers no request.
REVIEW_NOTHING_TEMPLATE = (
    "{answer} is no answer: your code has not found the result yet. Print the values it computed to "
    "see where the result is, then call final_answer with it. If the request has no answer, say so "
    "in words."
)
# Parts of the answer's form hold no value (tactic no_value_parts): {parts} as the answer writes
# them ("@p_value[nan]"). On DABench the small model gave such answers from columns with missing
# values, or from a selection that held none.
NO_VALUE_PARTS_TEMPLATE = (
    "{parts} in your answer {hold} no value: a NaN or None comes from missing values in the data "
    "(empty cells, a column read as text), from a selection that holds no rows, or from a lookup "
    "that missed. Print what {they} {was} computed from (how many values, how many missing) to find "
    "where, compute {it} again without that fault, then {how}."
)
# final_answer() was handed a whole table or array ({whole}: "a Series of 4 values"): a request for
# one thing in it (which column, what mean) is not answered by the table.
REVIEW_MANY_TEMPLATE = (
    "You passed {whole} to final_answer. If the request asks for one thing (a name, a number), "
    "call final_answer with just that, picked out of it by code. If it asks for all of them, send "
    "the same final_answer call again."
)
REVIEW_WORDS_TEMPLATE = (
    "Give the final answer now, exactly in the form the request asks for (names, rounding, units), "
    "with the values your code printed."
)

# Stalls (tactic: stall_warning): told once, before the run gives up. The repeated reply itself is
# not kept in the conversation, so {earlier_output} is the output of the step it repeats when that
# step is not the previous one (whose output the model has just read), else empty.
REPEATED_CODE_TEMPLATE = (
    "You sent the code of your {which} again, unchanged: it would do the same again.{earlier_output}"
    "{failing_line}\nTake another approach, or answer from what the outputs already show."
)
SAME_ERROR_TEMPLATE = (
    "{execution_feedback}\n"
    "This is the third time in a row that the code failed with the same error ({error}). Do not "
    "retry the same way: take another approach, or answer in plain words if it cannot be done."
    "{failing_line}"
)
# A stall the warning did not end (tactic: fresh_start): the conversation starts again from the
# request, with this added to it in place of the failed attempts (fresh_start.py).
FRESH_START_TEMPLATE = (
    "Your earlier code for this request failed {failed} and went round in circles, so it is left "
    "out here. The last attempt ended on:\n{error}{failing_line}{variables}\n"
    "Write new code that takes another way{without_line}."
)
# Where the repeated code fails: a small model's "fix" often leaves the failing line as it was.
FAILING_LINE_TEMPLATE = (
    "\nThe line that fails is line {number}:\n    {line}\nDo not send it again as it is. If you "
    "do not see why it fails, first print a few of the values it works on and their types."
)
# Added to an error's feedback when the step failed on the same line, with the same error, as the
# step before it (the code around the line changed, the line did not).
UNCHANGED_LINE_TEMPLATE = (
    "\nLine {number} failed again with the same error, and it is the same line as in your previous "
    "step:\n    {line}\nYour change did not touch it: change that line itself. If you do not see "
    "why it fails, first print a few of the values it works on and their types."
)

# After a failed step (tactic: error_context): the DataFrames its code names, as they are now.
FRAMES_TEMPLATE = (
    "The DataFrames this code uses, as they are now (write column names exactly as listed here):\n"
    "{frames}"
)

# After a failed step (tactic: error_values): the values its failing line works on, as the step
# left them, and what a function the user gave was called with when it raised (failing_values.py).
# It ends on what to do: headed "What line 3 works on", the list read as a question, and the small
# model answered it with a paragraph on what line 3 does.
VALUES_TEMPLATE = "Line {number} failed on these values, as the step left them:\n{values}"
CALLED_TEMPLATE = "{function}() raised the error; it was called with:\n{values}"
VALUES_END_TEMPLATE = "Change the code for what they really hold."

# After a step that called the functions the user gave (tactic: show_calls): each call and what
# it returned, the results the step's output did not show (call_trace.py). {calls}: a line each,
# a text that runs over lines indented under its call.
GIVEN_CALLS_TEMPLATE = "What the functions you were given returned in this step:\n{calls}"

# After a NameError or KeyError (tactic: suggest): the name the kernel has near the missing one
# (suggestions.py). {wrong} and {right} are repr'd keys, or bare variable names.
NEAR_NAME_TEMPLATE = "{wrong} is not defined, but the kernel has {right}: did you mean {right}?"
NEAR_KEY_TEMPLATE = "{owner} has no {kind} {wrong}; it has {right}: did you mean {right}?"
# The near column is the missing one with spaces around it (a CSV header written "a, b, c"). The
# strip comes first: told "write it with them, or strip", the small model wrote ' WINDSPEED' in one
# line and 'WINDSPEED' again in its next step; and it reads the file again in most steps.
NEAR_SPACES_TEMPLATE = (
    "{owner} has no column {wrong}: the file's header writes it {right}, with spaces around it. "
    "Strip the column names right after reading the file, and {wrong} works in this step and every "
    "later one: {owner}.columns = {owner}.columns.str.strip()"
)
NEAR_NONE_TEMPLATE = "{owner} has no {kind} {wrong}. It has: {listed}."
# After an AttributeError: the attribute near the missing one, or the call that does what the
# missing method was taken for (a builtin that calls the type's hook, the library's function).
NEAR_ATTRIBUTE_TEMPLATE = (
    "{owner} is a {type} and has no attribute {wrong}; it has {right}: did you mean {owner}.{right}?"
)
NEAR_CALL_TEMPLATE = "{owner} is a {type}, which has no method {wrong}: write {call} instead."
# A NameError for a module not imported, and an import of what the kernel has already.
NEAR_MODULE_TEMPLATE = (
    "{wrong} is not defined: the module is not imported. Add {right} at the top of the code."
)
NEAR_DEFINED_TEMPLATE = (
    "There is no module {wrong}, but the kernel has {wrong} already (a {type}): use it as it is, "
    "without an import."
)

# A call with arguments its function does not take (tactic: signature, call_signature.py).
SIGNATURE_TEMPLATE = "{call} takes {parameters}"
SIGNATURE_KEYWORD_TEMPLATE = ": it has no parameter {keyword}"

# A step Python could not read (tactic: syntax_help, syntax_fault.py): none of its lines ran, and
# for an f-string, the part of it that is wrong.
NOTHING_RAN_TEMPLATE = (
    "Python could not read line {number}, so no line of this step ran: nothing was printed and no "
    "variable was set."
)
FSTRING_FIELD_TEMPLATE = (
    "In the f-string on that line, {field} is not Python code: between { and } an f-string holds "
    "only an expression (a name, a call), as in f\"total: {total:.2f}\"; the words around it go "
    "outside the braces."
)
FSTRING_QUOTE_TEMPLATE = (
    "In the f-string on that line, the code between { and } uses the string's own quote {quote}, "
    "which ends the string before Python 3.12: use the other quote inside, as in "
    "f\"{row['name']}\"."
)

# A step passed final_answer() several different values (tactic: one_answer): none is taken.
MANY_ANSWERS_TEMPLATE = (
    "final_answer() was given {count} different values in this step: {values}. None of them was "
    "taken. Call it once, with the one answer the request asks for (all of its parts in that one "
    "call)."
)

# Replies that ended before they were whole: nothing of them ran.
CUT_LENGTH_TEMPLATE = (
    "Your reply was cut at the length limit before it was whole, so nothing of it ran. Reply again, "
    "shorter: one sentence and a short code block (split long work into several steps)."
)
EMPTY_TEMPLATE = (
    "Your reply was empty. Reply with a short code block to run, or with your final answer."
)
# A reply that copied the loop's message back (echo.py): not kept.
ECHO_TEMPLATE = (
    "Your reply only copied my message back. Reply with a short code block to run, or with your "
    "answer in your own words."
)
# The model's code handed final_answer() the loop's message: not taken.
ECHO_ANSWER_TEMPLATE = (
    "final_answer() was given my message back, not your answer, so it was not taken. Call it with "
    "the result your code finds, or answer in your own words."
)
# The model's code defined again what the user gave (tactic: keep_given); it did not run.
GIVEN_TEMPLATE = (
    "Your code defines {names} again, but the kernel already has {them} (listed with the request), "
    "so that code did not run. Do not define {them}: write the code again, using the given "
    "{ones} as {they} {are}."
)
# ...and the code without those definitions, to send back (a small model copies it well).
GIVEN_SUGGESTION_TEMPLATE = (
    "Without those definitions, your code is:\n```python\n{code}```\n"
    "Send it as your next step (corrected if it needs to be)."
)
# In place of the review or the form's message: the request's numbers no step used, each with the
# request's words around it (tactic unused_numbers). Appended to "give the final answer now", the
# same names left the small model answering the same number in 8 of 10 trade tasks.
UNUSED_TEMPLATE = (
    "Your code never used {numbers}, which the request gives: {words}. Do not answer yet: send code "
    "that uses {them} as the request says and prints the result."
)
# Code that typed out values nobody showed the model (tactic: unseen_data); it did not run.
UNSEEN_TEMPLATE = (
    "Your code types out values that appear nowhere in the request, in what it lists or in any "
    "output: {values}. Written from memory, they are guesses, so that code did not run. Get them "
    "with code from what the request gives (call its functions, read its files or variables) and "
    "print them before you use them. If the request asks for made-up example data, send the same "
    "code again."
)

# An answer gives numbers that no output, code or request showed (tactic unseen_answer): values
# from memory, such as the slots of a form the steps never computed. Said once; {how}: through
# final_answer() or in words.
UNSEEN_ANSWER_TEMPLATE = (
    "Your answer gives {numbers}, which no output has shown: a value that was not computed is a "
    "guess, so that answer was not taken. Compute {them} with code and print {them}; then give "
    "the whole answer{how}."
)

# ... told so once, the model gave such numbers again: the answer is taken, and the user told.
UNSHOWN_ANSWER_NOTE = ("{numbers} in this answer {appear} in no output: no step computed {them}, "
                       "also after the model was asked to.")


# A reply with code in another language and no Python (```bash, ```js...): nothing of it ran.
FOREIGN_TEMPLATE = (
    "Only Python runs here: your ```{language} block did not run. If you meant to run it, write it "
    "as Python in a ```python block (shell commands as `!command` lines). If that block is itself "
    "what the user asked for, send your answer again."
)
# ...the reply went round one line until it was cut (tactic: resample); the reply is not kept.
CUT_LOOP_TEMPLATE = (
    "Your reply wrote `{line}` over and over until it was cut at the length limit, so nothing of it "
    "ran. Reply again with a short code block that writes each line once and prints what it gets: "
    "you will see the output before your next step."
)
CUT_UNCLOSED_TEMPLATE = (
    "Your reply ended inside a code block that was never closed with ```, so nothing of it ran. "
    "Reply again with the whole block, closed."
)

# A step computed a whole number of 2**53 or more as a float (tactic: inexact_floats): said once,
# after its output. {each}: one INEXACT_ITEM per expression. Shown only its traceback (int('.'),
# from the float's text), the small model cut characters off that text until the run stalled.
INEXACT_TEMPLATE = (
    "{each} A float holds whole numbers exactly only up to 2**53 (9007199254740992), and Python "
    "writes one from 1e16 on in e-notation, not as its digits; Python's ints are exact at any "
    "size. Compute whole numbers with ints: {exact}. {answer}"
)
INEXACT_ITEM = "`{expression}` gives the float {value}, not the whole number."
INEXACT_OVERFLOW_ITEM = "`{expression}` is too large for a float."
INEXACT_ANSWER = "So that answer was not taken: compute it with ints, print it, then give it."


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Prompts:
    """Everything the loop says to a model, beyond the user's own words."""

    system: str = SYSTEM_TEMPLATE
    system_final_answer: str = SYSTEM_FINAL_ANSWER_TEMPLATE
    execution_output: str = OUTPUT_TEMPLATE
    execution_error: str = ERROR_TEMPLATE
    variables: str = VARIABLES_TEMPLATE
    files: str = FILES_TEMPLATE
    header_spaces: str = HEADER_SPACES_TEMPLATE
    cells: str = CELLS_TEMPLATE
    nudge: str = NUDGE_TEMPLATE
    act_first: str = ACT_FIRST_TEMPLATE
    look_first: str = LOOK_FIRST_TEMPLATE
    plan_first: str = PLAN_FIRST_TEMPLATE
    restate: str = RESTATE_TEMPLATE
    check: str = CHECK_TEMPLATE
    review_code: str = REVIEW_CODE_TEMPLATE
    form: str = FORM_TEMPLATE
    form_filled: str = FORM_FILLED_TEMPLATE
    review_words: str = REVIEW_WORDS_TEMPLATE
    review_nothing: str = REVIEW_NOTHING_TEMPLATE
    review_many: str = REVIEW_MANY_TEMPLATE
    no_value_parts: str = NO_VALUE_PARTS_TEMPLATE
    repeated_code: str = REPEATED_CODE_TEMPLATE
    same_error: str = SAME_ERROR_TEMPLATE
    failing_line: str = FAILING_LINE_TEMPLATE
    fresh_start: str = FRESH_START_TEMPLATE
    unchanged_line: str = UNCHANGED_LINE_TEMPLATE
    frames: str = FRAMES_TEMPLATE
    values: str = VALUES_TEMPLATE
    called: str = CALLED_TEMPLATE
    values_end: str = VALUES_END_TEMPLATE
    calls: str = GIVEN_CALLS_TEMPLATE
    many: str = MANY_ANSWERS_TEMPLATE
    near_name: str = NEAR_NAME_TEMPLATE
    near_key: str = NEAR_KEY_TEMPLATE
    near_spaces: str = NEAR_SPACES_TEMPLATE
    near_none: str = NEAR_NONE_TEMPLATE
    near_attribute: str = NEAR_ATTRIBUTE_TEMPLATE
    near_call: str = NEAR_CALL_TEMPLATE
    near_module: str = NEAR_MODULE_TEMPLATE
    near_defined: str = NEAR_DEFINED_TEMPLATE
    nothing_ran: str = NOTHING_RAN_TEMPLATE
    signature: str = SIGNATURE_TEMPLATE
    signature_keyword: str = SIGNATURE_KEYWORD_TEMPLATE
    fstring_field: str = FSTRING_FIELD_TEMPLATE
    fstring_quote: str = FSTRING_QUOTE_TEMPLATE
    cut_length: str = CUT_LENGTH_TEMPLATE
    cut_unclosed: str = CUT_UNCLOSED_TEMPLATE
    cut_loop: str = CUT_LOOP_TEMPLATE
    empty: str = EMPTY_TEMPLATE
    echoed: str = ECHO_TEMPLATE
    echoed_answer: str = ECHO_ANSWER_TEMPLATE
    foreign: str = FOREIGN_TEMPLATE
    given: str = GIVEN_TEMPLATE
    given_suggestion: str = GIVEN_SUGGESTION_TEMPLATE
    unseen: str = UNSEEN_TEMPLATE
    unseen_answer: str = UNSEEN_ANSWER_TEMPLATE
    unshown_answer_note: str = UNSHOWN_ANSWER_NOTE
    unused: str = UNUSED_TEMPLATE
    inexact: str = INEXACT_TEMPLATE
    inexact_item: str = INEXACT_ITEM
    inexact_overflow_item: str = INEXACT_OVERFLOW_ITEM
    inexact_answer: str = INEXACT_ANSWER
    # Sent to the server as ``stop``; the reply is cut client-side whatever the server does.
    stop: tuple[str, ...] = ()

    def system_message(self, python_modules: str = "", *, final_answer: bool = False) -> str:
        block = f"\n{python_modules.strip()}\n" if python_modules.strip() else ""
        template = self.system_final_answer if final_answer else self.system
        return template.replace("{python_modules}", block)

    def request_message(self, request: str, variables: str = "", files: str = "", *,
                        act_first: bool = False, final_answer: bool = False, cells: str = "",
                        look_first: bool = False, plan_first: bool = False,
                        spaced: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> str:
        """The user's request, with the cells they ran just before, what the kernel holds and
        the files it names; ``act_first``: ending with the ask to start with code that uses them
        (when there are any); ``look_first``: asking to print what they return before using it;
        ``plan_first``: asking for a numbered plan before the code (the caller says so only when
        functions are listed);
        ``spaced``: files whose header writes names with spaces around them, and those names."""
        parts = [request]
        if cells.strip():
            parts.append(self.cells.replace("{cells}", cells))
        if variables.strip():
            parts.append(self.variables.replace("{variables}", variables))
        if files.strip():
            parts.append(self.files.replace("{files}", files))
            for file, names in spaced:
                parts[-1] += "\n" + self.header_spaces.replace("{file}", file).replace(
                    "{names}", ", ".join(repr(n) for n in names))
        if act_first and len(parts) > 1:
            how = "through final_answer()" if final_answer else "in plain words"
            ask = self.plan_first if plan_first else self.look_first if look_first else self.act_first
            parts.append(ask.replace("{answer_how}", how))
        return "\n\n".join(parts)

    def feedback(self, text: str, *, failed: bool) -> str:
        template = self.execution_error if failed else self.execution_output
        return template.replace("{execution_feedback}", text)

    def templates(self) -> list[str]:
        """Every message text of the loop, with its ``{slots}`` (echo.py reads their fixed words)."""
        return [value for value in vars(self).values() if isinstance(value, str)]

    def without_echo(self, answer: str) -> str:
        """``answer`` cut where it starts copying what the loop said before an answer (a small
        model handed "0.176" plus the restated request to final_answer())."""
        for template in (self.restate, self.check):
            opening = template.split("{", 1)[0].strip()
            if opening and (at := answer.find(opening)) > 0:
                answer = answer[:at].rstrip()
        return answer

    def before_answer(self, answer: str, request: str, *, restate: bool, check: bool,
                      from_code: bool, whole: str | None = None) -> str:
        """What the model is sent when it is about to answer (tactics restate and check);
        ``from_code``: the answer was handed to final_answer() (not given in words); ``whole``:
        it was a whole table or array, so described (``final_answer.many_values``)."""
        text = (self.restate if restate else "") + (self.check if check else "")
        if from_code and is_nothing(answer):
            text += self.review_nothing
        elif from_code and whole:
            text += self.review_many.replace("{whole}", whole)
        elif from_code:
            text += self.review_code
        else:
            text += self.review_words
        return text.replace("{request}", request.strip()).replace("{answer}", answer.strip())

    def wrong_form(self, answer: str, form: str, missing: list[str], *, from_code: bool,
                   fill: bool = True, parts: tuple[str, ...] = ()) -> str:
        """The answer lacks ``missing``, literal parts of the ``form`` the request gives; ``fill``:
        show the answer put in the form where that is unambiguous (tactic fill_form)."""
        how = ("call final_answer with the whole answer, as one string in that form" if from_code
               else "write the whole answer in that form")
        shown = answer.strip() if len(answer) <= 200 else answer.strip()[:200] + "…"
        text = (self.form.replace("{answer}", repr(shown) if "\n" not in shown else f"\n{shown}\n")
                .replace("{form}", form.strip()).replace("{missing}", ", ".join(missing))
                .replace("{how}", how))
        if fill and (filled := filled_form(answer, missing, parts)) is not None:
            text += self.form_filled.replace(
                "{filled}", f"final_answer({filled!r})" if from_code else filled)
        return text

    def nudge_for(self, request: str, given: bool = False) -> str:
        """A run's first reply came without code (tactic: nudge). The request is repeated: sent
        back without it, a small model took up the system prompt's example instead. ``given``:
        the request came with variables, functions or files to use."""
        with_what = " with what you were given" if given else ""
        return self.nudge.replace("{request}", request.strip()).replace("{with_what}", with_what)

    def stalled(self, *, repeated: bool, feedback: str = "", error: str = "", step: int | None = None,
                where: FailingLine | None = None) -> str:
        """``repeated``: the code of an earlier step again (``step``: which, when not the previous
        one; ``feedback``: its output); else the same error three times (``feedback``: the last
        step's). ``where``: the line of the code that fails."""
        template = self.repeated_code if repeated else self.same_error
        which = f"step {step}" if step else "previous step"
        earlier = f" It gave:\n{feedback}\n" if repeated and step else ""
        return (template.replace("{earlier_output}", earlier).replace("{execution_feedback}", feedback)
                .replace("{error}", error).replace("{which}", which)
                .replace("{failing_line}", self._line(self.failing_line, where)))

    def started_again(self, failed: int, error: str, where: FailingLine | None, variables: list[str]) -> str:
        """Added to the request when a stalled run starts its conversation again (fresh_start.py)."""
        times = "once" if failed == 1 else "twice" if failed == 2 else f"{failed} times"
        line = f"\nThe line that raised it:\n    {where.text}" if where is not None else ""
        without = ", without that line" if where is not None else ""
        made = ("\nWhat the earlier steps made is still in the kernel:\n" + "\n".join(variables)
                if variables else "")
        return (self.fresh_start.replace("{failed}", times).replace("{error}", error or "(no error)")
                .replace("{failing_line}", line).replace("{variables}", made)
                .replace("{without_line}", without))

    def frames_used(self, described: list[str]) -> str:
        """Added to a failed step's feedback: the DataFrames its code names (step_frames.py)."""
        return self.frames.replace("{frames}", "\n".join(f"- {d}" for d in described))

    def failing_values(self, where: FailingLine, failed: FailedOn) -> str:
        """Added to a failed step's feedback: what its failing line works on (failing_values.py)."""
        def listed(values: list[Value]) -> str:
            return "\n".join(f"- {v.text}" for v in values)

        parts = []
        if failed.values:
            parts.append(self.values.replace("{number}", str(where.number))
                         .replace("{values}", listed(failed.values)))
        if failed.arguments:
            parts.append(self.called.replace("{function}", failed.function or "")
                         .replace("{values}", listed(failed.arguments)))
        return "\n".join([*parts, self.values_end])

    def given_calls(self, calls: list[Call], more: int = 0) -> str:
        """Added to a step's feedback: the calls to given functions it made (call_trace.py)."""
        lines = []
        for call in calls:
            head = f"- {call.function}({call.arguments}) returned"
            if "\n" in call.returned:
                lines.append(head + ":\n" + textwrap.indent(call.returned.rstrip("\n"), "    "))
            else:
                lines.append(f"{head} {call.returned}")
        if more:
            lines.append(f"- … and {more} more call{'s' if more > 1 else ''}")
        return self.calls.replace("{calls}", "\n".join(lines))

    def many_answers(self, values: list[str]) -> str:
        """Added to a step's feedback: it passed final_answer() these different values."""
        shown = ", ".join(repr(v if len(v) <= 80 else v[:80] + "…") for v in values[:6])
        return (self.many.replace("{count}", str(len(values)))
                .replace("{values}", shown + (", …" if len(values) > 6 else "")))

    def near(self, found: list[Near]) -> str:
        """Added to a failed step's feedback: what its missing names were near (suggestions.py)."""
        lines = []
        for near in found:
            if near.kind == "name":
                lines.append(self.near_name.replace("{wrong}", near.wrong).replace("{right}", near.right or ""))
                continue
            if near.kind in ("module", "defined"):
                template = self.near_module if near.kind == "module" else self.near_defined
                lines.append(template.replace("{wrong}", near.wrong).replace("{right}", near.right or "")
                             .replace("{type}", near.type))
                continue
            if near.kind == "attribute":
                template = self.near_attribute if near.right is not None else self.near_call
                lines.append(template.replace("{owner}", near.owner).replace("{type}", near.type)
                             .replace("{wrong}", near.wrong).replace("{right}", near.right or "")
                             .replace("{call}", near.call or ""))
                continue
            template = (self.near_spaces if near.spaces else self.near_key if near.right is not None
                        else self.near_none)
            lines.append(template.replace("{owner}", near.owner).replace("{kind}", near.kind)
                         .replace("{wrong}", repr(near.wrong)).replace("{right}", repr(near.right))
                         .replace("{listed}", ", ".join(map(repr, near.listed))))
        return "\n".join(lines)

    def call_signature(self, found: Signature) -> str:
        """Added to a failed step's feedback: what the function it called takes (call_signature.py)."""
        text = self.signature.replace("{call}", found.call).replace("{parameters}", found.parameters)
        if found.keyword is not None:
            text += self.signature_keyword.replace("{keyword}", found.keyword)
        return text + "."

    def syntax_fault(self, fault: SyntaxFault) -> str:
        """Added to the feedback of a step that did not compile (syntax_fault.py)."""
        parts = [self.nothing_ran.replace("{number}", str(fault.number))]
        if fault.field is not None:
            parts.append(self.fstring_field.replace("{field}", fault.field))
        elif fault.quote is not None:
            parts.append(self.fstring_quote.replace("{quote}", fault.quote))
        return "\n".join(parts)

    def line_unchanged(self, where: FailingLine) -> str:
        """Added to a step's error feedback: it failed on the same line as the step before."""
        return self._line(self.unchanged_line, where).strip()

    @staticmethod
    def _line(template: str, where: FailingLine | None) -> str:
        if where is None:
            return ""
        return template.replace("{number}", str(where.number)).replace("{line}", where.text)

    def redefines(self, names: list[str], without: str | None = None) -> str:
        """The model's code defined ``names`` again; ``without``: that code without them."""
        one = len(names) == 1
        words = {"{names}": ", ".join(names), "{them}": "it" if one else "them",
                 "{ones}": "one" if one else "ones", "{they}": "it" if one else "they",
                 "{are}": "is" if one else "are"}
        text = self.given
        for key, value in words.items():
            text = text.replace(key, value)
        if without:
            text += "\n" + self.given_suggestion.replace("{code}", without)
        return text

    def unused_numbers(self, numbers: list[UnusedNumber]) -> str:
        """The request gives ``numbers`` that no step's code used."""
        return (self.unused.replace("{numbers}", _listed([n.text for n in numbers]))
                .replace("{words}", "; ".join(f'"{n.words}"' for n in numbers))
                .replace("{them}", "it" if len(numbers) == 1 else "them"))

    def unseen_values(self, values: list[str]) -> str:
        """The model's code typed out ``values`` (as the code writes them) that nothing showed it."""
        return self.unseen.replace("{values}", ", ".join(values))

    def inexact_floats(self, found: list[InexactFloat], *, answer_held: bool) -> str:
        """A step computed whole numbers as floats (inexact_floats.py); ``answer_held``: the
        answer it gave was not taken."""
        each = " ".join((self.inexact_overflow_item if math.isinf(hit.value) else self.inexact_item)
                        .replace("{expression}", hit.expression).replace("{value}", repr(hit.value))
                        for hit in found)
        exact = _listed([f"`{hit.exact}`" for hit in found])
        return (self.inexact.replace("{each}", each).replace("{exact}", exact)
                .replace("{answer}", self.inexact_answer if answer_held else "").strip())

    def unseen_in_answer(self, numbers: list[str], *, final_answer: bool) -> str:
        """An answer gave ``numbers`` (as it writes them) that nothing in the run showed."""
        return (self.unseen_answer.replace("{numbers}", _listed(numbers))
                .replace("{them}", "it" if len(numbers) == 1 else "them")
                .replace("{how}", " through final_answer()" if final_answer else ""))

    def empty_parts(self, parts: list[str], *, from_code: bool) -> str:
        """Parts of the answer's form hold no value: ``parts`` as the answer writes them."""
        one = len(parts) == 1
        how = ("call final_answer with the whole answer" if from_code
               else "give the whole answer in the form the request asks")
        return (self.no_value_parts.replace("{parts}", _listed(parts))
                .replace("{hold}", "holds" if one else "hold").replace("{it}", "it" if one else "them")
                .replace("{they}", "it" if one else "they").replace("{was}", "was" if one else "were")
                .replace("{how}", how))

    def unshown_note(self, numbers: list[str]) -> str:
        """For the user: the answer taken still gives ``numbers`` that nothing in the run showed."""
        return (self.unshown_answer_note.replace("{numbers}", _listed(numbers))
                .replace("{appear}", "appears" if len(numbers) == 1 else "appear")
                .replace("{them}", "it" if len(numbers) == 1 else "them"))

    def foreign_code(self, language: str) -> str:
        return self.foreign.replace("{language}", language)

    def cut(self, reason: str, looping: str | None = None) -> str:
        if looping is not None:
            return self.cut_loop.replace("{line}", looping)
        return self.cut_length if reason == "length" else self.cut_unclosed


PRESETS: dict[str, Prompts] = {
    "default": Prompts(),
    # Local servers sometimes leak the next chat turn: stopping there saves the tokens. Not
    # "```output" (freeact's QwenCoder stops there): Qwen Coder often writes it in place of the
    # closing fence, and the server, stripping the stop string, left the code block unclosed. The
    # reader closes the code at that fence instead, and the stream is cut there.
    "qwen": Prompts(stop=("<|im_start|>",)),
}


def preset_for(model: str, name: str = "auto") -> Prompts:
    """The preset called ``name``, or for ``auto`` the one that fits the model id."""
    if name != "auto":
        try:
            return PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown prompt preset {name!r}; choose one of: auto, {', '.join(PRESETS)}"
            ) from None
    return PRESETS["qwen"] if "qwen" in model.lower() else PRESETS["default"]


def with_overrides(prompts: Prompts, **templates: str | None) -> Prompts:
    """``prompts`` with each non-empty template given here put in its place."""
    return replace(prompts, **{k: v for k, v in templates.items() if v})
