"""codeact_magic: a model that works in your live Jupyter kernel, one real cell at a time.

``%load_ext codeact_magic``, then a ``%%codeact`` cell with a request in plain words.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Loaded on first use, so `%load_ext codeact_magic` stays fast (the loop, the model layer and
# litellm come in with the first run).
_LAZY = {
    "arun": "api", "last_run": "api", "CodeAct": "config",
    "Run": "run", "Step": "run", "StepError": "run", "Usage": "run",
    "Model": "model", "LiteLLM": "model", "Prompts": "prompts",
}
__all__ = [*_LAZY, "load_ipython_extension", "unload_ipython_extension"]

if TYPE_CHECKING:
    from .api import arun, last_run
    from .config import CodeAct
    from .model import LiteLLM, Model
    from .prompts import Prompts
    from .run import Run, Step, StepError, Usage


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'codeact_magic' has no attribute {name!r}")


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt extension (for `jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "codeact-magic"}]


def load_ipython_extension(shell) -> None:
    from .magic import load

    load(shell)


def unload_ipython_extension(shell) -> None:
    from .magic import unload

    unload(shell)
