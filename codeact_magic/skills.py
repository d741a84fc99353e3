"""Skill modules: Python modules whose functions the model is told of and asked to import.

As in freeact, a skill is plain code the user already trusts: the module's source goes into the
system prompt (``{python_modules}``), or, when it is long, its public signatures and docstrings.
The modules are imported in the kernel, from its own path, so a skill the model can read is one
its code can import.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from .kernel_context import _doc, _signature

SOURCE_BUDGET = 4000  # characters of a module's source sent whole; beyond, its public API only
HEADER = ("Skill modules: import them and call their functions rather than writing your own "
          "(`from {first} import ...`):")


class SkillError(ValueError):
    """A skill module that cannot be imported."""


def parse(spec: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """``"pkg.mod, other"`` or a list: the module names, in order, without repeats."""
    if not spec:
        return []
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _api(module: ModuleType) -> str:
    """The module's public functions and classes, a line each with the first lines of their docs."""
    lines = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            kind = "class " if inspect.isclass(value) else "def "
            doc = _doc(value)
            lines.append(f"{kind}{name}{_signature(value)}" + (f"  # {doc}" if doc else ""))
    return "\n".join(lines)


def describe(name: str) -> str:
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # any error of the module's own import: the user's to see
        raise SkillError(f"the skill module {name!r} cannot be imported: "
                         f"{type(exc).__name__}: {exc}") from None
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        source = ""
    if source and len(source) <= SOURCE_BUDGET:
        return f"```python\n# module {name}\n{source.rstrip()}\n```"
    doc = _doc(module)
    return (f"```python\n# module {name} (its public functions and classes)\n"
            + (f"# {doc}\n" if doc else "") + f"{_api(module)}\n```")


def python_modules(names: list[str]) -> str:
    """What ``{python_modules}`` of the system prompt becomes for these skill modules."""
    if not names:
        return ""
    return "\n".join([HEADER.replace("{first}", names[0]), *(describe(n) for n in names)])
