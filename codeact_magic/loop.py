"""The CodeAct loop: ask the model, run its code in the live kernel, show it what happened, repeat.

It yields events and renders nothing: frontends (inline output, widgets, the JupyterLab extension)
consume the events. Each reply is read as one of four things (``reply.py``) and the loop is one
``match`` over them; what it sends back besides outputs (a nudge to compute, the request restated
before the answer, a warning about a stall) is chosen by its ``Tactics``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from .answer_numbers import unshown_numbers
from .control import AutoControl, Control
from .echo import echoes
from .events import (Event, FollowUp, ModelText, ModelWaiting, RunFinished, RunStarted, StepFinished,
                     StepStarted)
from .executor import Execution, Executor, RunInProgress
from .call_trace import unseen
from .failing_values import failing_values
from .answer_form import filled_form, find as find_answer_form
from .call_signature import callee_signature
from .final_answer import is_no_value, many_values, typed_text, without_answer_calls
from .fresh_start import attempts
from .given import invented, redefined, without
from .images import StepImage, parts
from .inexact_floats import inexact_floats
from .kernel_context import KernelContext
from .model import Message, Model, ModelReply, TextDelta, Waiting
from .observation import ANSWER_RECEIVED, observe, step_error
from .prompts import Prompts
from .provider_error import ProviderError
from .redact import redact, secret_values
from .reply import Answer, Code, Cut, Empty, Foreign, read_reply
from .run import Run, Step
from .stall import (looping_line, repeated_step, repeats_last_code, same_error_streak,
                    unchanged_failing_line)
from .step_frames import frames_used
from .suggestions import suggest
from .syntax_fault import syntax_fault
from .tactics import DEFAULT, Tactics, may_be_a_guess
from .unseen_values import unseen_values
from .unused_numbers import UnusedNumber, unused_numbers
from .window import fit

STOPPED_BY_USER = "Stopped with the Stop button."
INTERRUPTED = "Stopped by the kernel's interrupt."
ECHOED_TWICE = ("Stopped: the model copied the loop's message back twice instead of answering, so "
                "this run has no answer. Run the cell again, or try a stronger model.")
NO_VALUE = ("Stopped: the model's code found no value for the answer (None, NaN or nothing), also after "
            "being told that is no answer, so this run has none. Run the cell again, or try a "
            "stronger model.")
# A fault of the loop's own (a bug in how it reads a reply or an output), not the model's, the
# provider's or the step's: the run ends with what it has, the cells it made stay.
INTERNAL_ERROR = ("Stopped by a fault in codeact_magic itself ({error}, in {where}), not in the model or "
                  "your code; the cells this run made are kept. Please report it with the traceback "
                  "printed above.")
DECLINED = ("The user declined to run that code. Do not run it; propose something else, "
            "or answer in plain words.")


@dataclass(frozen=True)
class Limits:
    max_steps: int = 10
    step_timeout: float | None = 60.0
    max_output_chars: int = 4000
    # Characters of history the model can take (its context window less the reply), or None.
    context_chars: int | None = None
    # USD: no model call starts once the run has spent this much (where the price is known).
    max_cost: float | None = None


@dataclass
class _Said:
    """What the loop has already sent back once in this run (each is sent at most once)."""

    nudged: bool = False
    reviewed: bool = False
    # Told that final_answer() was handed a whole table: apart from ``reviewed``, as another message
    # (the review of an answer in words, the form's) may have spent that one before the table came.
    whole_told: bool = False
    # Told that final_answer() was handed nothing (None, NaN, ""): the same way, and ahead of the
    # form's message, which put the None in the form ("That is: final_answer('Answer: None')").
    nothing_told: bool = False
    formed: bool = False  # told the answer lacks the request's form (tactic: answer_form)
    shape: bool = False  # the next reply is held to that form, where the server can (form_grammar)
    warned_repeat: bool = False
    resampled: bool = False  # a repeat after the warning was met with a sampled reply
    explore: bool = False  # the next reply is sampled (tactic: resample)
    warned_error: bool = False
    # The step before which the conversation started again from the request (tactic:
    # fresh_start); 0: it has not (a start again needs a failed step before it).
    restart_at: int = 0
    # The final_answer() under review: its text and step. The same code again confirms it.
    pending: tuple[str, int] | None = None
    cuts: int = 0
    empties: int = 0
    foreign: bool = False  # told that only Python runs
    kept_given: bool = False  # told not to define again what the user gave
    unseen: bool = False  # told that its code typed out values nothing showed it
    unshown: bool = False  # told that its answer gave numbers nothing showed it
    unused: bool = False  # told which of the request's numbers no step used
    inexact: bool = False  # told that a step computed whole numbers as floats
    told: str = ""  # the loop's messages of its own so far (not outputs)
    echoed: bool = False  # a reply copied one of them back
    skipped: int = 0
    turn: int = 0
    # The images of the step just run, for the next call only: (the message they go with, images).
    images: tuple[int, list[StepImage]] | None = None
    # DataFrames described after a failed step: name → the columns and dtypes shown.
    frames: dict[str, tuple] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # error_values: name → what it was shown as
    # The last step's exception, when it failed and stall_values is on: its frames hold the values
    # the failing line worked on (kept only then: they keep the step's objects alive).
    failure: BaseException | None = None


@dataclass
class _Conversation:
    """The history sent to the model: the system prompt, the request, then replies and outputs."""

    messages: list[Message] = field(default_factory=list)

    def say(self, role: str, content: str) -> None:
        self.messages.append({"role": role, "content": content})

    def add(self, content: str) -> None:
        """``content`` for the model, after the message it has just read (the user's turn)."""
        if self.messages and self.messages[-1]["role"] == "user":
            self.messages[-1] = {"role": "user", "content": self.messages[-1]["content"] + "\n\n" + content}
        else:
            self.say("user", content)

    def said(self) -> list[str]:
        """The model's replies so far."""
        return [m["content"] for m in self.messages if m["role"] == "assistant" and isinstance(m["content"], str)]

    def shown(self) -> str:
        """All the text the model was shown: the request with what it lists, and every output."""
        texts = []
        for message in self.messages:
            if message["role"] == "user":
                content = message["content"]
                texts += [content] if isinstance(content, str) else [
                    part.get("text", "") for part in content if isinstance(part, dict)]
        return "\n".join(texts)


async def codeact_loop(
    run: Run,
    *,
    model: Model,
    executor: Executor,
    prompts: Prompts,
    limits: Limits,
    tactics: Tactics = DEFAULT,
    api_key: str | None = None,
    keys: tuple[str, ...] = (),
    context: KernelContext = KernelContext(),
    control: Control | None = None,
    history: list[Message] | None = None,
    python_modules: str = "",
    before: dict[str, int] | None = None,
) -> AsyncIterator[Event]:
    """Drive ``run`` to its end. ``run`` is filled in place; the last event carries it.

    ``context`` is what the kernel holds and which files the request names, told with the request.
    ``control`` approves steps, pauses between them and carries a Stop (default: run everything).
    ``history`` is the conversation of earlier runs that this request goes on with (memory.py).
    ``python_modules`` is what the system prompt says of the skill modules (``skills.py``).
    ``before`` is the user's variables as the run began (``variable_changes.snapshot``).
    ``api_key`` (the one in use) and ``keys`` (others a step could read) are never shown to it.
    """
    control = control or AutoControl()
    yield RunStarted(run, limits.max_steps)
    # This run's system prompt, then the earlier runs it goes on with (their own system prompt
    # left out: the skills or tactics may have changed since), then the request.
    carried = [m for m in history or [] if m["role"] != "system"]
    run.earlier = len(carried)
    chat = _Conversation([
        {"role": "system", "content": prompts.system_message(python_modules,
                                                             final_answer=tactics.final_answer)},
        *carried])
    chat.add(prompts.request_message(run.request, context.variables, context.files, cells=context.cells,
                                     act_first=tactics.act_first, final_answer=tactics.final_answer,
                                     look_first=tactics.look_first,
                                     plan_first=tactics.plan_first and bool(context.functions),
                                     spaced=context.spaced if tactics.header_spaces else ()))
    request_at = len(chat.messages) - 1  # kept whole when the window is short
    said = _Said()
    # The given functions whose calls a step's feedback shows with what they returned (show_calls);
    # the data names too: a tool object is data that can be called.
    traced = (*context.functions, *context.data) if tactics.show_calls else ()
    states_form = find_answer_form(run.request)
    form = states_form if tactics.answer_form else None

    def unused_due() -> list[UnusedNumber]:
        """The request's numbers that no step's code used, when the model is to be told of them
        before it answers (once; tactic unused_numbers)."""
        if not tactics.unused_numbers or said.unused or not run.steps:
            return []
        numbers = unused_numbers(run.request, [s.code for s in run.steps],
                                 states_form.text if states_form else None)
        said.unused = bool(numbers)
        return numbers

    def stall_values(step: Step, error: BaseException | None) -> str:
        """Added to a stall's warning on failing code: the values its failing line works on
        (tactic stall_values), or nothing."""
        if not tactics.stall_values or step.error is None or step.error.where is None or not (
                failed := failing_values(error, step.error.where, said.values)):
            return ""
        run.follow_ups.append("stall_values")  # counted apart, to measure it
        return "\n" + prompts.failing_values(step.error.where, failed)

    def wrong_form(answer: str) -> list[str]:
        """What the answer lacks of the request's form, if the model is still to be told."""
        return form.missing(answer) if form is not None and not said.formed else []

    def empty_parts(answer: str) -> list[str]:
        """The parts of the answer in the request's form that hold no value (``@p_value[nan]``),
        if the model is still to be told (tactic no_value_parts): once, as for an answer that is
        no value at all."""
        if not tactics.no_value_parts or states_form is None or said.nothing_told or not run.steps:
            return []
        return states_form.empty_parts(answer)

    streamed = ""  # the reply so far, counted if it is cut short by a Stop or an interrupt

    def secrets() -> list[str]:
        # Read afresh each time: a step may have put a new secret into the environment.
        return secret_values(extra=[api_key, *keys, *executor.secrets()])

    def follow_up(kind: str, message: str) -> FollowUp:
        run.follow_ups.append(kind)
        said.told = f"{said.told}\n{message}" if message else said.told
        return FollowUp(kind, message)

    def form_follow_up(answer: str, missing: list[str], message: str, parts: tuple[str, ...] = ()) -> FollowUp:
        told = follow_up("form", message)
        said.shape = tactics.form_grammar and tactics.final_answer
        if tactics.fill_form and filled_form(answer, missing, parts):
            run.follow_ups.append("filled")  # counted apart, to measure it
        return told

    def start_again() -> FollowUp:
        """The failed attempts since the request leave the conversation; a summary of them joins
        the request (the kernel keeps what they made)."""
        tried = attempts(run.steps[said.restart_at:], getattr(executor, "shell", None), before)
        said.restart_at, said.images = len(run.steps), None
        del chat.messages[request_at + 1:]
        message = prompts.started_again(tried.failed, tried.error, tried.where, tried.variables)
        chat.add(message)
        return follow_up("fresh", message)

    def confirmed(text: str) -> str:
        """An answer in words. Asked to confirm, a small model may answer by copying the
        observation's "final_answer received: X": the answer is X."""
        return text.strip().removeprefix(ANSWER_RECEIVED).strip()

    def given_names(code: str) -> list[str]:
        """The user's functions and data that ``code`` would define over (given.py)."""
        return (redefined(code, context.functions, run.request)
                + invented(code, context.data, getattr(executor.shell, "user_ns", None)))

    def unshown(answer: str, *, told: bool = False) -> list[str]:
        """The numbers of ``answer`` that no output, step code or the request showed (tactic
        unseen_answer), if the model is still to be told (``told``: after it was); only in runs
        that ran code (a greeting stays one call)."""
        if not tactics.unseen_answer or said.unshown is not told or not run.steps:
            return []
        # The request (and the earlier runs it goes on with): never the loop's own messages, which
        # quote the model's answers. Of the steps, their code but for its final_answer() calls
        # (where the model types what it did not compute), and their outputs; what final_answer()
        # received only from a step that typed none of it in (the model repeats in words what its
        # code computed: M3ToolEval's "Answer: 651.2" is shown).
        shown = [m["content"] for m in chat.messages[1:request_at + 1] if isinstance(m["content"], str)]
        for step in run.steps:
            typed = bool(unshown_numbers(typed_text(step.code), ""))
            shown.append(without_answer_calls(step.code))
            shown += [line for line in step.output.splitlines()
                      if not (typed and line.startswith(ANSWER_RECEIVED))]
        return unshown_numbers(answer, "\n".join(shown))

    def still_unshown(answer: str) -> str | None:
        """What the user is told of an answer taken with numbers nothing computed, after the model
        was told so once (the request may want such numbers; the user judges them)."""
        numbers = unshown(answer, told=True)
        return prompts.unshown_note(numbers) if numbers else None

    def copies_the_loop(text: str) -> bool:
        """The reply only gives back the loop's own message (echo.py), not the model's answer."""
        known = "\n".join([run.request, *chat.said(), *(s.output for s in run.steps)])
        return echoes(prompts.without_echo(confirmed(text)), said.told, prompts.templates(), known)

    def hands_back_the_loop(answer: str) -> bool:
        """A value code handed to final_answer() is the loop's own message: only the request can
        hold such words legitimately (the model's code and its output hold them now)."""
        return echoes(prompts.without_echo(answer), said.told, prompts.templates(), run.request)

    def end_on_second_echo() -> None:
        """Copied back again after being told: still no answer, and taking the loop's words as one
        would hand the user a made-up result. A final_answer() under review came from code that
        ran: it stands, unless it was no value (None)."""
        if said.pending and not is_no_value(said.pending[0]):
            keep_pending()
        else:
            end("stopped", ECHOED_TWICE)

    def keep_pending() -> None:
        """End on the value code handed to final_answer(), under review: it came from code that ran."""
        assert said.pending is not None
        answered(*said.pending)

    def answered(text: str, step: int) -> None:
        """End on a value that step's code handed to final_answer(). A value that is none (None,
        NaN, "") after the model was told it is no answer is no answer still: on M3ToolEval the
        small model then typed ``final_answer("None")``, and the run ended "answered" with it."""
        if said.nothing_told and is_no_value(text):
            end("stopped", NO_VALUE)
        else:
            run.answer_step = step
            code = run.steps[step - 1].code
            end("answered", still_unshown(typed_text(code)), answer=text)

    def end(status: str, note: str | None = None, answer: str | None = None) -> None:
        if answer is not None:
            answer = prompts.without_echo(answer)
        run.status, run.note, run.answer = status, note, answer  # type: ignore[assignment]

    try:
        with executor.session():
            while run.status is None:
                if control.stop_requested:
                    end("stopped", STOPPED_BY_USER)
                    break
                if (over := _over_budget(run, limits)) is not None:
                    end("stopped", over)
                    break

                # Ask. Everything the model is sent is redacted here, at one place.
                said.turn += 1
                hidden = secrets()
                run.messages = [{**m, "content": _sendable(m["content"], hidden)}
                                for m in fit(chat.messages, limits.context_chars, keep=request_at)]
                require_code = tactics.require_code == "always" or (
                    tactics.require_code == "first" and said.turn == 1)
                reply: ModelReply | None = None
                streamed = ""
                explore, said.explore = said.explore, False
                shape, said.shape = form if said.shape else None, False
                sending, said.images = _with_images(run.messages, said.images), None
                async for chunk in model.stream(sending, require_code=require_code, explore=explore,
                                                form=shape):
                    if isinstance(chunk, TextDelta):
                        streamed += chunk.text
                        yield ModelText(chunk.text, said.turn)
                    elif isinstance(chunk, Waiting):
                        yield ModelWaiting(chunk.text)
                    else:
                        reply = chunk
                streamed = ""
                assert reply is not None, "a model stream must end with a ModelReply"
                run.usage.add(reply.usage)

                read = read_reply(reply.text, reply.finish_reason)
                if isinstance(read, Foreign) and said.foreign:
                    read = Answer(read.text)  # told once: the block is the answer it meant to give
                if isinstance(read, Code) and tactics.drop_given and said.kept_given and (
                        names := given_names(read.code)) and (rest := without(read.code, names)):
                    # Told once, it defined them again: what runs is the rest (the cell shows it).
                    read = Code(replace(read.parsed, text=read.parsed.with_code(rest), code=rest))
                    run.follow_ups.append("dropped")
                match read:
                    case Empty() if said.empties == 0:
                        # Nothing at all: a server that dropped the reply, or a model that ended its
                        # turn at once. At temperature 0 the same prompt gives the same nothing, so
                        # the model is told, and asked again.
                        said.empties += 1
                        chat.say("user", prompts.empty)
                        yield follow_up("empty", prompts.empty)

                    case Empty() if said.pending:
                        # Asked to confirm what its code handed to final_answer(), the model said
                        # nothing, twice: that answer came from code that ran; keep it.
                        keep_pending()

                    case Empty():
                        end("error", f"The model '{run.model}' sent an empty reply twice. Run the cell "
                                     "again, or try another model.")

                    case Cut(text, reason) if said.cuts == 0:
                        # Never run half a block nor take half a reply as the answer: ask again once.
                        said.cuts += 1
                        looping = looping_line(text) if tactics.resample and reason == "length" else None
                        message = prompts.cut(reason, looping)
                        told = follow_up("cut", message)
                        if looping is None:
                            chat.say("assistant", text)
                            chat.say("user", message)
                        else:
                            # Went round one line to the limit: asked again sampled, as a stall is,
                            # and without the loop in the conversation (read, it is written again).
                            said.explore = True
                            chat.add(message)
                            run.follow_ups.append("looped")  # counted apart, to measure it
                        yield told

                    case Cut(_, reason):
                        why = ("was cut at the length limit" if reason == "length"
                               else "ended inside an unclosed code block")
                        end("error", f"The model's reply {why} twice, so nothing of it ran. "
                                     "Raise CodeAct.max_tokens, or try another model.")

                    case Foreign(text, language):
                        said.foreign = True
                        chat.say("assistant", text)
                        message = prompts.foreign_code(language)
                        chat.say("user", message)
                        yield follow_up("language", message)

                    case Answer(text) if not said.echoed and copies_the_loop(text):
                        # Its reply is the loop's message, copied back: not an answer. Asked again
                        # (sampled, with resample: greedy, it copies again); the copy is not kept.
                        said.echoed, said.explore = True, tactics.resample
                        chat.add(prompts.echoed)
                        yield follow_up("echo", prompts.echoed)

                    case Answer(text) if said.echoed and copies_the_loop(text):
                        end_on_second_echo()

                    case Answer(text) if tactics.nudge and not run.steps and not said.nudged \
                            and may_be_a_guess(text):
                        said.nudged = True
                        chat.say("assistant", text)
                        message = prompts.nudge_for(run.request, given=context.gives_something)
                        chat.say("user", message)
                        yield follow_up("nudge", message)

                    case Answer(text) if parts := empty_parts(confirmed(text)):
                        said.nothing_told = said.reviewed = True
                        chat.say("assistant", text)
                        message = prompts.empty_parts(parts, from_code=False)
                        chat.say("user", message)
                        yield follow_up("no_value", message)

                    case Answer(text) if numbers := unused_due():
                        # In place of the review or the form's message: the next answer gets those.
                        chat.say("assistant", text)
                        message = prompts.unused_numbers(numbers)
                        chat.say("user", message)
                        yield follow_up("unused", message)

                    case Answer(text) if run.steps and (missing := wrong_form(text)):
                        # In place of the restated request: the form itself, and what is missing.
                        said.formed = said.reviewed = True
                        chat.say("assistant", text)
                        message = prompts.wrong_form(text, form.text, missing, from_code=False,
                                                     fill=tactics.fill_form)
                        chat.say("user", message)
                        yield form_follow_up(text, missing, message)

                    case Answer(text) if numbers := unshown(confirmed(text)):
                        said.unshown = True
                        chat.say("assistant", text)
                        message = prompts.unseen_in_answer(numbers, final_answer=tactics.final_answer)
                        chat.say("user", message)
                        yield follow_up("unshown", message)

                    case Answer(text) if _review_due(tactics, said, run):
                        said.reviewed = True
                        chat.say("assistant", text)
                        message = _before_answer(prompts, tactics, text, run.request, from_code=False)
                        chat.say("user", message)
                        yield follow_up("review", message)

                    case Answer(text):
                        chat.say("assistant", text)
                        end("answered", still_unshown(confirmed(text)), answer=confirmed(text))

                    case Code() as proposed if said.pending and said.pending[1] == len(run.steps) \
                            and repeats_last_code(proposed.code, run.steps):
                        # Asked to check its final_answer(), the model sent the same call: confirmed.
                        # (Only that step's: a later step sent again confirms nothing.)
                        chat.say("assistant", proposed.parsed.text)
                        keep_pending()

                    case Code() as proposed if tactics.keep_given and not said.kept_given and (
                            names := given_names(proposed.code)):
                        said.kept_given = True
                        chat.say("assistant", proposed.parsed.text)
                        message = prompts.redefines(names, without(proposed.code, names))
                        chat.say("user", message)
                        yield follow_up("given", message)

                    case Code() as proposed if tactics.unseen_data and not said.unseen and (
                            values := unseen_values(proposed.code, chat.shown())):
                        # Data typed from memory: not run. Sent again after this, it runs (the
                        # request may ask for made-up data).
                        said.unseen = True
                        chat.say("assistant", proposed.parsed.text)
                        message = prompts.unseen_values(values)
                        chat.say("user", message)
                        yield follow_up("unseen", message)

                    case Code() if len(run.steps) + said.skipped >= limits.max_steps:
                        end("max_steps", f"Stopped after {limits.max_steps} steps (the limit) without "
                                         "a final answer; the last proposed code was not run. Raise "
                                         "--max-steps to let it go on.")

                    case Code() as proposed if (earlier := repeated_step(proposed.code, run.steps)) and (
                            (tactics.stall_warning and not said.warned_repeat) or earlier == len(run.steps)):
                        # The code of an earlier step again (A, A or A, B, A): told once, then (tactic
                        # resample) asked once more at a temperature; the code of the previous step
                        # after that ends the run. The repeat is not kept in the conversation: a
                        # model that reads its reply twice tends to write it a third time.
                        repeated = run.steps[earlier - 1]
                        if tactics.stall_warning and not said.warned_repeat:
                            said.warned_repeat = True
                            previous = earlier == len(run.steps)
                            message = prompts.stalled(
                                repeated=True, feedback="" if previous else repeated.output,
                                step=None if previous else earlier,
                                where=repeated.error.where if repeated.error else None)
                            if previous:
                                message += stall_values(repeated, said.failure)
                            chat.add(message)
                            yield follow_up("stall", message)
                        elif tactics.fresh_start and not said.restart_at and run.steps[-1].error:
                            yield start_again()
                        elif tactics.resample and not said.resampled:
                            said.resampled = said.explore = True
                            yield follow_up("resample", "")
                        else:
                            end("stopped", "Stopped: the model proposed the same code as in its "
                                           "previous step, so it was going round in circles. Rephrase "
                                           "the request or try a stronger model.")

                    case Code() as proposed:
                        index = len(run.steps) + 1
                        decision = await control.approve(index, proposed.code)
                        if decision.action == "stop":
                            chat.say("assistant", proposed.parsed.text)
                            end("stopped", STOPPED_BY_USER)
                            break
                        if decision.action == "skip":
                            said.skipped += 1
                            chat.say("assistant", proposed.parsed.text)
                            chat.say("user", DECLINED)
                            continue
                        code = (decision.code or proposed.code).rstrip("\n") + "\n"
                        # The model sees the code that ran, the user's edit included, as its own action.
                        chat.say("assistant", proposed.parsed.with_code(code))
                        yield StepStarted(index, code)
                        started = time.monotonic()
                        execution = await executor.run(code, limits.step_timeout, index, trace=traced)
                        step, feedback = _record(execution, code, reply, prompts, limits, secrets())
                        if tactics.show_calls and (calls := unseen(execution.calls, step.output)):
                            feedback += "\n\n" + redact(prompts.given_calls(calls, execution.calls.more), secrets())
                            run.follow_ups.append("calls")
                        step.thought = redact(proposed.parsed.before.strip(), secrets())
                        step.seconds = time.monotonic() - started
                        run.steps.append(step)
                        yield StepFinished(index, step, step.seconds)

                        if execution.interrupted:
                            end("stopped", INTERRUPTED)
                            break
                        said.failure = execution.error if tactics.stall_values and step.error else None
                        if step.error is not None:
                            for kind, text in _after_error(tactics, prompts, execution, step,
                                                           getattr(executor, "shell", None), said):
                                feedback += "\n\n" + text
                                run.follow_ups.append(kind)
                        answer = execution.answer if execution.error is None else None
                        if execution.answer is not None and answer is None:
                            feedback += ("\n(final_answer() was called, but the step failed after it, "
                                         "so that answer was not taken.)")
                        elif answer is not None and answer.others and (tactics.join_parts
                                                                       or tactics.one_answer):
                            values = [*answer.others, answer.text]
                            if tactics.join_parts and form is not None \
                                    and (joined := form.joined(values)) is not None:
                                # One call per part of the request's form: together, the one answer.
                                answer = replace(answer, text=joined, others=())
                                run.follow_ups.append("joined")
                            elif tactics.one_answer:
                                feedback += "\n\n" + prompts.many_answers(values)
                                run.follow_ups.append("answers")
                                answer = None
                        if tactics.inexact_floats and not said.inexact and (found := inexact_floats(
                                code, getattr(getattr(executor, "shell", None), "user_ns", None))):
                            # Whole numbers computed as floats: an answer from them is held back.
                            said.inexact = True
                            feedback += "\n\n" + prompts.inexact_floats(found, answer_held=answer is not None)
                            run.follow_ups.append("inexact")
                            answer = None
                        if answer is not None and hands_back_the_loop(answer.text):
                            # Its code handed final_answer() the loop's own message (M3ToolEval's
                            # web runs: "None is no answer: ..." as a string): no answer either.
                            answer = None
                            if said.echoed:
                                end_on_second_echo()
                                break
                            said.echoed, said.explore = True, tactics.resample
                            feedback += "\n\n" + prompts.echoed_answer
                            run.follow_ups.append("echo")
                        if answer is not None and (numbers := unshown(typed_text(code))):
                            # Numbers typed into the answer (a literal, or around an f-string's
                            # fields) that no step computed.
                            answer, said.unshown = None, True
                            feedback += "\n\n" + prompts.unseen_in_answer(numbers, final_answer=True)
                            run.follow_ups.append("unshown")
                        whole = _whole_due(tactics, said, answer.value) if answer is not None else None
                        nothing = answer is not None and _nothing_due(tactics, said, answer.text)
                        parts = empty_parts(answer.text) if answer is not None and not nothing else []
                        if answer is not None and parts:
                            # Parts of the form hold no value (NaN, None): told once, before the form.
                            said.nothing_told = said.reviewed = True
                            said.pending = (answer.text, index)
                            message = prompts.empty_parts(parts, from_code=True)
                            chat.say("user", feedback + "\n\n" + message)
                            yield follow_up("no_value", message)
                        elif answer is not None and not nothing and (numbers := unused_due()):
                            # In place of the review or the form's message; the same call again
                            # confirms the answer, as after them.
                            said.pending = (answer.text, index)
                            message = prompts.unused_numbers(numbers)
                            chat.say("user", feedback + "\n\n" + message)
                            yield follow_up("unused", message)
                        elif answer is not None and not nothing and (missing := wrong_form(answer.text)):
                            said.formed = said.reviewed = True
                            said.pending = (answer.text, index)
                            message = prompts.wrong_form(answer.text, form.text, missing, from_code=True,
                                                         fill=tactics.fill_form, parts=answer.parts)
                            chat.say("user", feedback + "\n\n" + message)
                            yield form_follow_up(answer.text, missing, message, answer.parts)
                        elif answer is not None and (_review_due(tactics, said, run,
                                                                 formless=states_form is None)
                                                     or whole or nothing):
                            said.reviewed, said.pending = True, (answer.text, index)
                            said.whole_told = said.whole_told or whole is not None
                            said.nothing_told = said.nothing_told or nothing
                            message = _before_answer(prompts, tactics, answer.text, run.request,
                                                     from_code=True, whole=whole)
                            chat.say("user", feedback + "\n\n" + message)
                            told = follow_up("review", message)
                            if whole is not None:
                                run.follow_ups.append("whole")  # counted apart, to measure it
                            if nothing:
                                run.follow_ups.append("nothing")
                            yield told
                        elif answer is not None:
                            answered(answer.text, index)
                        elif same_error_streak(run.steps[said.restart_at:]):
                            error = f"{step.error.ename}: {step.error.evalue}"
                            if tactics.stall_warning and not said.warned_error:
                                said.warned_error = True
                                message = prompts.stalled(repeated=False, feedback=feedback, error=error,
                                                          where=step.error.where)
                                message += stall_values(step, execution.error)
                                chat.say("user", message)
                                yield follow_up("stall", message)
                            elif tactics.fresh_start and not said.restart_at:
                                yield start_again()
                            else:
                                end("stopped", f"Stopped: the last three steps failed with the same "
                                               f"error ({error}).")
                        elif tactics.same_line and (where := unchanged_failing_line(run.steps)):
                            # The fix went around the failing line, not into it: say which line.
                            message = prompts.line_unchanged(where)
                            chat.say("user", feedback + "\n\n" + message)
                            yield follow_up("line", message)
                        else:
                            chat.say("user", feedback)
                        if execution.images and getattr(model, "vision", False) \
                                and chat.messages[-1]["role"] == "user" and said.restart_at < len(run.steps):
                            said.images = (len(chat.messages) - 1, execution.images)
                        if run.status is None and not await control.resume(index):
                            end("stopped", STOPPED_BY_USER)
    except RunInProgress as exc:
        end("error", str(exc))
    except asyncio.CancelledError:
        if streamed:
            run.usage.add(model.usage_of(run.messages, streamed))
        end("stopped", STOPPED_BY_USER if control.stop_requested else INTERRUPTED)
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # the run ends cleanly; the cell itself is not cancelled
    except KeyboardInterrupt:
        if streamed:
            run.usage.add(model.usage_of(run.messages, streamed))
        end("stopped", INTERRUPTED)
    except ProviderError as exc:
        end("error", str(exc))
    except Exception as exc:
        logging.getLogger(__name__).exception("codeact_magic: the run's loop failed")
        end("error", INTERNAL_ERROR.format(error=f"{type(exc).__name__}: {exc}", where=_where(exc)))
    # The whole conversation, the last reply included, for inspection and for a run that goes on.
    hidden = secrets()
    run.messages = [{**m, "content": _sendable(m["content"], hidden)} for m in chat.messages]
    yield RunFinished(run)


def _where(exc: BaseException) -> str:
    """The innermost frame of this package that the exception went through: where to look."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "codeact_magic" in f.filename]
    if not frames:
        return "a library it called"
    last = frames[-1]
    module = last.filename.rsplit("codeact_magic", 1)[-1].lstrip("/\\")
    return f"{module}:{last.lineno} ({last.name})"


def _sendable(text: str, hidden: list[str]) -> str:
    """``text`` redacted, and encodable as UTF-8: a step's output may hold lone surrogates (a file
    name decoded with surrogate escapes, say), which no request body can carry; the model sees
    them escaped, as Python's repr shows them."""
    return redact(text, hidden).encode("utf-8", "backslashreplace").decode("utf-8")


def _with_images(messages: list[Message], images: tuple[int, list[StepImage]] | None) -> list[Message]:
    """``messages`` with the step's images added to the message they go with (once: the record
    of the conversation keeps its line of text for each)."""
    if images is None or images[0] >= len(messages):
        return messages
    at, shown = images
    return [*messages[:at], {**messages[at], "content": parts(messages[at]["content"], shown)},
            *messages[at + 1:]]


def _over_budget(run: Run, limits: Limits) -> str | None:
    spent = run.usage.cost
    if limits.max_cost is not None and spent is not None and spent >= limits.max_cost:
        return (f"Stopped before the next model call: the run has spent ${spent:.4f}, its budget is "
                f"${limits.max_cost:.4f} (CodeAct.max_cost).")
    return None


def _review_due(tactics: Tactics, said: _Said, run: Run, *, formless: bool = False) -> bool:
    """Restate the request (and check) before an answer, once, in runs that ran code: a request
    answered without code (a greeting) stays one call. ``formless``: the answer is a value code
    handed to final_answer() and the request states no form to hold it against (tactic
    restate_formless)."""
    restate = tactics.restate and (tactics.restate_formless or not formless)
    return (restate or tactics.check) and not said.reviewed and bool(run.steps)


def _whole_due(tactics: Tactics, said: _Said, value: object) -> str | None:
    """``value`` described when it is a whole table or array handed to final_answer() and the model
    has not been told so yet (with the review, and once more if the review was spent before)."""
    return many_values(value) if (tactics.restate or tactics.check) and not said.whole_told else None


def _nothing_due(tactics: Tactics, said: _Said, text: str) -> bool:
    """``text`` is no value (None, NaN, "") and the model has not been told so yet: it is told
    once, whatever was said before (the review, the form's message), and before the form. An
    empty list goes through the form as any answer: it may be the one asked for."""
    return (tactics.restate or tactics.check) and not said.nothing_told and is_no_value(text)


def _before_answer(prompts: Prompts, tactics: Tactics, answer: str, request: str, *,
                   from_code: bool, whole: str | None = None) -> str:
    return prompts.before_answer(answer, request, restate=tactics.restate, check=tactics.check,
                                 from_code=from_code, whole=whole)


def _after_error(tactics: Tactics, prompts: Prompts, execution: Execution, step: Step, shell: object,
                 said: _Said) -> list[tuple[str, str]]:
    """What follows a failed step's error for the model, each with the follow-up it counts as:
    the DataFrames its code names, the values its failing line works on, what is wrong in a step
    Python could not read, what the function it called takes, the names near a missing one."""
    namespace = getattr(shell, "user_ns", None)
    code, where, added = step.code, step.error.where, []
    if tactics.error_context and (described := frames_used(code, namespace, said.frames)):
        added.append(("frames", prompts.frames_used(described)))
    if tactics.error_values and (values := failing_values(execution.error, where, said.values)):
        added.append(("values", prompts.failing_values(where, values)))
    if tactics.syntax_help and (fault := syntax_fault(execution.error, code)):
        added.append(("syntax", prompts.syntax_fault(fault)))
    if tactics.signature and (takes := callee_signature(execution.error, code, where, namespace)):
        added.append(("signature", prompts.call_signature(takes)))
    if tactics.suggest and (found := suggest(step.error.ename, step.error.evalue, code, shell, execution.error,
                                             attributes=tactics.attribute_help)):
        added.append(("suggest", prompts.near(found)))
    return added


def _record(execution: Execution, code: str, reply: ModelReply, prompts: Prompts, limits: Limits,
            secrets: list[str]) -> tuple[Step, str]:
    """The step as the run records it, and the feedback message the model reads."""
    text = observe(execution, limit=limits.max_output_chars, secrets=secrets,
                   timeout=limits.step_timeout)
    step = Step(code=code, output=text,
                error=step_error(execution.error, code, before_exec=execution.error_before_exec),
                execution_count=execution.execution_count, timed_out=execution.timed_out,
                usage=reply.usage)
    return step, prompts.feedback(text, failed=execution.error is not None)
