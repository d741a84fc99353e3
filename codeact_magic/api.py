"""The Python API: ``await arun(request, **options)`` and ``last_run()``."""

from __future__ import annotations

from typing import Any, Callable

from .config import CodeAct
from .events import Event
from .executor import Executor
from .loop import Limits, codeact_loop
from .model import LiteLLM, Model
from .prompts import preset_for, with_overrides
from .run import Run

_last: Run | None = None


def last_run() -> Run | None:
    """The most recent run in this kernel (also one that is still going, or was interrupted)."""
    return _last


def _shell() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("codeact_magic runs code in an IPython shell or Jupyter kernel; none is running.")
    return shell


def _config(shell: Any) -> CodeAct:
    for c in shell.configurables:
        if isinstance(c, CodeAct):
            return c
    # arun() without %load_ext: read the same config anyway.
    config = CodeAct(parent=shell)
    shell.configurables.append(config)
    return config


async def arun(
    request: str,
    *,
    model: str | Model | None = None,
    api_base: str | None = None,
    max_steps: int | None = None,
    timeout: float | None = None,
    new: bool = False,
    display: bool = True,
    on_event: Callable[[Event], None] | None = None,
) -> Run:
    """Run the CodeAct loop on ``request`` in the current kernel and return the finished ``Run``.

    Options left out come from ``%config CodeAct``. ``model`` is a litellm id or any ``Model``.
    ``display`` renders the run in the current cell's output; ``on_event`` sees every event.
    ``new`` starts a fresh conversation (every run does, for now).
    """
    global _last
    shell = _shell()
    config = _config(shell)
    if isinstance(model, str) or model is None:
        name = config.resolve_model(model)
        backend: Model = LiteLLM(
            name,
            api_base=api_base or config.api_base or None,
            max_tokens=config.max_tokens,
            temperature=config.temperature,
            request_timeout=config.request_timeout,
            rate_limit_retries=config.rate_limit_retries,
        )
    else:
        name, backend = model.name, model
    prompts = with_overrides(
        preset_for(name, config.preset),
        system=config.system_template,
        execution_output=config.output_template,
        execution_error=config.error_template,
    )
    if isinstance(backend, LiteLLM) and not backend.stop:
        backend.stop = prompts.stop
    step_timeout = config.step_timeout if timeout is None else timeout
    limits = Limits(
        max_steps=max_steps or config.max_steps,
        step_timeout=step_timeout or None,
        max_output_chars=config.max_output_chars,
    )
    run = _last = Run(request=request, model=name)
    sinks = [s for s in (on_event,) if s is not None]
    if display:
        from .inline import renderer_for

        sinks.append(renderer_for(shell))
    async for event in codeact_loop(
        run,
        model=backend,
        executor=Executor(shell),
        prompts=prompts,
        limits=limits,
        api_key=getattr(backend, "api_key", None),
    ):
        for sink in sinks:
            sink(event)
    return run
