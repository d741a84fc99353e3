"""The CodeAct loop: ask the model, run its code in the live kernel, show it what happened, repeat.

It yields events and renders nothing: frontends (inline output, widgets, the JupyterLab extension)
consume the events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from .context import fit
from .control import AutoControl, Control
from .events import Event, ModelText, RunFinished, RunStarted, StepFinished, StepStarted
from .executor import Executor
from .interrupts import Guard
from .model import Message, Model, ModelReply, TextDelta
from .observation import observe, step_error
from .prompts import Prompts
from .provider_error import ProviderError
from .redact import redact, secret_values
from .reply import parse_reply
from .run import Run, Step
from .stall import repeats_last_code, same_error_streak


STOPPED_BY_USER = "Stopped with the Stop button."
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


async def codeact_loop(
    run: Run,
    *,
    model: Model,
    executor: Executor,
    prompts: Prompts,
    limits: Limits,
    api_key: str | None = None,
    variables: str = "",
    control: Control | None = None,
) -> AsyncIterator[Event]:
    """Drive ``run`` to its end. ``run`` is filled in place; the last event carries it.

    ``variables`` summarises what the user's kernel holds, for the model to build on.
    ``control`` approves steps, pauses between them and carries a Stop (default: run everything).
    """
    control = control or AutoControl()
    yield RunStarted(run, limits.max_steps)
    history: list[Message] = [
        {"role": "system", "content": prompts.system_message()},
        {"role": "user", "content": prompts.request_message(run.request, variables)},
    ]

    def secrets() -> list[str]:
        # Read afresh each time: a step may have put a new secret into the environment.
        return secret_values(extra=[api_key])

    with Guard() as guard:
        try:
            turn = skipped = 0
            streamed = ""
            while True:
                turn += 1
                if control.stop_requested:
                    run.status, run.note = "stopped", STOPPED_BY_USER
                    break
                spent = run.usage.cost
                if limits.max_cost is not None and spent is not None and spent >= limits.max_cost:
                    run.status, run.note = "stopped", (
                        f"Stopped before the next model call: the run has spent ${spent:.4f}, "
                        f"its budget is ${limits.max_cost:.4f} (CodeAct.max_cost).")
                    break
                # Everything the model is sent is redacted here, at one place.
                hidden = secrets()
                sent = fit(history, limits.context_chars)
                run.messages = [{**m, "content": redact(m["content"], hidden)} for m in sent]
                reply: ModelReply | None = None
                streamed = ""  # what arrived so far, counted if the reply is cut short
                async for chunk in model.stream(run.messages):
                    if isinstance(chunk, TextDelta):
                        streamed += chunk.text
                        yield ModelText(chunk.text, turn)
                    else:
                        reply = chunk
                streamed = ""
                assert reply is not None, "a model stream must end with a ModelReply"
                run.usage.add(reply.usage)
                parsed = parse_reply(reply.text)
                if not parsed.text.strip():
                    run.status, run.note = "error", (
                        f"The model '{run.model}' sent an empty reply. Run the cell again, or try "
                        "another model.")
                    break
                if parsed.code is None:
                    history.append({"role": "assistant", "content": parsed.text})
                    run.status, run.answer = "answered", parsed.text.strip()
                    break
                if len(run.steps) + skipped >= limits.max_steps:
                    run.status, run.note = "max_steps", (
                        f"Stopped after {limits.max_steps} steps (the limit) without a final answer; "
                        "the last proposed code was not run. Raise --max-steps to let it go on.")
                    break
                if repeats_last_code(parsed.code, run.steps):
                    run.status, run.note = "stopped", (
                        "Stopped: the model proposed the same code as in its previous step, so it "
                        "was going round in circles. Rephrase the request or try a stronger model.")
                    break

                index = len(run.steps) + 1
                decision = await control.approve(index, parsed.code)
                if decision.action == "stop":
                    history.append({"role": "assistant", "content": parsed.text})
                    run.status, run.note = "stopped", STOPPED_BY_USER
                    break
                if decision.action == "skip":
                    skipped += 1
                    history.append({"role": "assistant", "content": parsed.text})
                    history.append({"role": "user", "content": DECLINED})
                    continue
                code = (decision.code or parsed.code).rstrip("\n") + "\n"
                # The model sees the code that ran, the user's edit included, as its own action.
                history.append({"role": "assistant", "content": parsed.with_code(code)})
                yield StepStarted(index, code)
                started = time.monotonic()
                execution = await executor.run(code, guard, limits.step_timeout, index)
                feedback = observe(execution, limit=limits.max_output_chars, secrets=secrets(),
                                   timeout=limits.step_timeout)
                step = Step(code=code, output=feedback, error=step_error(execution.error),
                            execution_count=execution.execution_count,
                            timed_out=execution.timed_out, usage=reply.usage)
                run.steps.append(step)
                yield StepFinished(index, step, time.monotonic() - started)

                if execution.interrupted:
                    run.status, run.note = "stopped", "Stopped by the kernel's interrupt."
                    break
                failed = execution.error is not None
                history.append({"role": "user", "content": prompts.feedback(feedback, failed=failed)})
                if same_error_streak(run.steps):
                    run.status, run.note = "stopped", (
                        f"Stopped: the last three steps failed with the same error "
                        f"({step.error.ename}: {step.error.evalue}).")
                    break
                if not await control.resume(index):
                    run.status, run.note = "stopped", STOPPED_BY_USER
                    break
        except asyncio.CancelledError:
            if streamed:
                run.usage.add(model.usage_of(run.messages, streamed))
            run.status = "stopped"
            run.note = STOPPED_BY_USER if control.stop_requested else "Stopped by the kernel's interrupt."
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the run ends cleanly; the cell itself is not cancelled
        except KeyboardInterrupt:
            if streamed:
                run.usage.add(model.usage_of(run.messages, streamed))
            run.status, run.note = "stopped", "Stopped by the kernel's interrupt."
        except ProviderError as exc:
            run.status, run.note = "error", str(exc)
    yield RunFinished(run)
