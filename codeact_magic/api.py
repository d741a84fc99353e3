"""The Python API: ``await arun(request, **options)`` and ``last_run()``."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
import sys
import time
from typing import Any, Callable

from .config import CodeAct, ModelChoice, NoModelChosen, config_of
from .control import MODES
from .events import Event, RunFinished
from .executor import Executor
from .interrupts import check_step_timeout
from .kernel_context import KernelContext, kernel_context
from .loop import Limits, codeact_loop
from .memory import memory_of
from .recent_cells import describe as describe_cells
from .recent_cells import recent_cells
from .model import LiteLLM, Model
from .prompts import preset_for, with_overrides
from .run import Run
from .tactics import Tactics
from .skills import SkillError, python_modules
from .skills import parse as parse_skills
from .tactics import parse as parse_tactics
from .variable_changes import changes, snapshot

_last: Run | None = None
# Characters per token, on the safe side for code and English, to turn a token window into a budget.
_CHARS_PER_TOKEN = 3


def last_run() -> Run | None:
    """The most recent run in this kernel (also one that is still going, or was interrupted)."""
    return _last


def _shell() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("codeact_magic runs code in an IPython shell or Jupyter kernel; none is running.")
    return shell


async def _local_model(config: CodeAct, progress: Callable[[str], None]) -> tuple[LiteLLM, int]:
    """Start (or find) the embedded model's server, without blocking the kernel's event loop."""
    from .local.server import ALIAS, CONTEXT_TOKENS, busy_note, count_tokens, ensure_running

    loop = asyncio.get_running_loop()

    def report(text: str) -> None:  # called from the worker thread
        loop.call_soon_threadsafe(progress, text)

    state = await asyncio.to_thread(ensure_running, report)
    backend = LiteLLM(f"openai/{ALIAS}", api_base=state.api_base, api_key=state.api_key,
                      max_tokens=config.local_max_tokens,
                      temperature=config.local_temperature if config.temperature is None else config.temperature,
                      request_timeout=config.request_timeout, reply_timeout=config.reply_timeout,
                      rate_limit_retries=0, free=True,
                      grammar=True, busy_note=lambda: busy_note(state),
                      count_tokens=lambda messages, text: count_tokens(state, list(messages), text))
    return backend, CONTEXT_TOKENS


def memory_budget(config: CodeAct, context_chars: int | None) -> int:
    """Characters of earlier runs a run may carry: CodeAct.memory_chars, at most a third of the
    model's window (the run's own steps need the rest)."""
    if context_chars:
        return min(config.memory_chars, context_chars // 3)
    return config.memory_chars


def _request_too_long(request: str, config: CodeAct, context_chars: int | None) -> str | None:
    """Why ``request`` is not sent, if it is too long: every model call carries it whole."""
    limit = config.max_request_chars
    if context_chars:
        limit = min(limit, context_chars // 2)
    if len(request) <= limit:
        return None
    return (f"The request is {len(request):,} characters (about {len(request) // 4:,} tokens), more than "
            f"{limit:,} (CodeAct.max_request_chars, or half this model's window): every model call would "
            "carry it whole. Put the long text in a file or a variable and name it in the request; "
            "the model reads it with code.")


def _local_server_key() -> tuple[str, ...]:
    """The embedded model's server key, which a step could read from its state file, whatever
    model the run uses."""
    from .local.server import read_state

    state = read_state()
    return (state.api_key,) if state is not None and state.api_key else ()


def _litellm_model(choice: ModelChoice, config: CodeAct, api_base: str | None) -> tuple[LiteLLM, int | None]:
    api_key = None
    if config.api_key_env:
        api_key = os.environ.get(config.api_key_env)
        if not api_key:
            raise NoModelChosen(f"CodeAct.api_key_env names {config.api_key_env}, which is not set in "
                                "the kernel's environment. Set it there (not in the notebook), or "
                                "clear CodeAct.api_key_env.")
    backend = LiteLLM(
        choice.model,
        api_base=api_base or config.api_base or None,
        api_key=api_key,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        request_timeout=config.request_timeout,
        reply_timeout=config.reply_timeout,
        rate_limit_retries=config.rate_limit_retries,
    )
    backend.vision = config.vision == "on" or (config.vision == "auto" and backend.supports_vision())
    return backend, backend.context_tokens()


async def arun(
    request: str,
    *,
    model: str | Model | None = None,
    api_base: str | None = None,
    max_steps: int | None = None,
    timeout: float | None = None,
    new: bool = False,
    mode: str | None = None,
    display: bool = True,
    on_event: Callable[[Event], None] | None = None,
    tactics: str | Tactics | None = None,
    skills: str | list[str] | None = None,
    after: Run | None = None,
) -> Run:
    """Run the CodeAct loop on ``request`` in the current kernel and return the finished ``Run``.

    Options left out come from ``%config CodeAct``. ``model`` is a litellm id, ``"local"`` for the
    embedded model, or any ``Model``. ``display`` renders the run in the current cell's output;
    ``on_event`` sees every event. Runs in one kernel are one conversation (``memory.py``); ``new``
    starts a fresh one.
    ``mode``: ``auto`` runs every step; ``confirm`` asks before each; ``step`` pauses after each.
    ``tactics``: how the model is made to act and check (``codeact_magic.tactics``; a ``Tactics`` or
    a spec such as ``"default,-restate"``); default ``%config CodeAct.tactics``.
    ``skills``: skill modules (``"pkg.mod,other"`` or a list) told to the model, after those of
    ``%config CodeAct.skills``.
    ``after``: a finished run whose conversation this request goes on with, in place of the
    kernel's (its model sees what was said and done; the kernel's state is whatever it is now).
    """
    global _last
    shell = _shell()
    config = config_of(shell)
    chosen_tactics = parse_tactics(tactics if tactics is not None else config.tactics)
    mode = mode or config.mode
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    sinks: list[Callable[[Event], None]] = [on_event] if on_event else []
    renderer = None
    if display:
        from .frontends.inline import RichRenderer, renderer_for

        renderer = renderer_for(shell)  # also shows the local model's progress, before the run
        if isinstance(renderer, RichRenderer) and "litellm" not in sys.modules:
            renderer.starting()

    context_tokens: int | None = None
    if isinstance(model, str) or model is None:
        choice = config.resolve_model(model)
        if choice.local:
            started = time.monotonic()
            backend, context_tokens = await _local_model(config, renderer.progress if renderer else print)
            if renderer:
                renderer.progress(f"local model ready ({time.monotonic() - started:.1f} s)", done=True)
            name = f"local/{backend.name.split('/', 1)[1]}"
        else:
            backend, context_tokens = _litellm_model(choice, config, api_base)
            name = choice.model
    else:
        name, backend = model.name, model
    prompts = with_overrides(
        preset_for(name, config.preset),
        system=config.system_template,
        system_final_answer=config.system_template,
        execution_output=config.output_template,
        execution_error=config.error_template,
    )
    if isinstance(backend, LiteLLM) and not backend.stop:
        backend.stop = prompts.stop
    reply_tokens = getattr(backend, "max_tokens", None) or 0
    context_tokens = config.context_tokens or context_tokens
    step_timeout = config.step_timeout if timeout is None else check_step_timeout(timeout)
    limits = Limits(
        max_steps=max_steps or config.max_steps,
        step_timeout=step_timeout or None,
        max_output_chars=config.max_output_chars,
        # The window less the reply (at least half the window: a reply limit set larger than it).
        context_chars=max(context_tokens - reply_tokens, context_tokens // 2) * _CHARS_PER_TOKEN
        if context_tokens else None,
        max_cost=config.max_cost,
    )
    executor = Executor(shell, final_answer=chosen_tactics.final_answer,
                        every_expression=chosen_tactics.show_expressions)
    run = Run(request=request, model=name)
    modules, refused = "", _request_too_long(request, config, limits.context_chars)
    if refused is None:
        try:
            modules = python_modules(parse_skills([*config.skills, *parse_skills(skills)]))
        except SkillError as exc:
            refused = f"Not started: {exc}."
    if refused is not None:
        run.status, run.note = "error", refused
        _last = run
        for sink in sinks + ([renderer] if renderer is not None else []):
            sink(RunFinished(run))
        return run
    if Executor.busy(shell):
        # What a run holds is process-wide (stdout, the interrupt, the step timer): one at a time.
        # The run going on stays last_run(); this one is refused before it shows anything else.
        run.status, run.note = "error", ("Another %%codeact run is going on in this kernel; runs go "
                                         "one at a time. Wait for it to end (or stop it), then run "
                                         "this again.")
        for sink in sinks + ([renderer] if renderer is not None else []):
            sink(RunFinished(run))
        return run
    _last = run
    control = None
    if renderer is not None:
        from .frontends import choose

        chosen = await choose(shell, run, mode=mode, max_steps=limits.max_steps, renderer=renderer)
        if isinstance(renderer, RichRenderer):
            renderer.started()
        sinks += chosen.sinks
        executor.router_factory = chosen.router_factory
        control = chosen.control
        if chosen.refusal:
            run.status, run.note = "error", chosen.refusal
            for sink in sinks:
                sink(RunFinished(run))
            return run
    elif mode != "auto":
        raise ValueError(f"mode={mode!r} needs a frontend to ask the user: use display=True")
    memory = memory_of(shell)
    if new:
        memory.forget()
    budget = memory_budget(config, limits.context_chars)
    history = (after.messages if after is not None else
               memory.history(budget) if budget else None) if not new else None
    before = snapshot(shell)
    context = KernelContext()
    if config.show_variables:
        context = kernel_context(shell, request, rich=chosen_tactics.context != "names",
                                 source=chosen_tactics.context == "source",
                                 header_spaces=chosen_tactics.header_spaces)
    # Taken even when not told: the cells before this run are not the next run's.
    cells = recent_cells(shell).take()
    if config.show_cells == "error":
        # By default only a failing last cell: the source of cells that ran well repeats what the
        # variables listing says, and on the example notebook it turned the small model's right
        # total (263) into a wrong one (143); the error of the cell just run is what "why did that
        # fail?" and "fix it" are about.
        cells = cells[-1:] if cells and cells[-1].error else []
    if config.show_cells != "none" and cells:
        context = replace(context, cells=describe_cells(cells))
    async for event in codeact_loop(
        run,
        model=backend,
        executor=executor,
        prompts=prompts,
        limits=limits,
        tactics=chosen_tactics,
        api_key=getattr(backend, "api_key", None),
        keys=_local_server_key(),
        context=context,
        python_modules=modules,
        control=control,
        history=history,
        before=before,
    ):
        if isinstance(event, RunFinished):
            run.created, run.changed = changes(before, shell)
            memory.remember(run)
        for sink in sinks:
            sink(event)
    return run
