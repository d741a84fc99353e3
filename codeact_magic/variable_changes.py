"""Which of the user's variables a run created or rebound: what the run left in their kernel.

Compared by identity, name by name: a name bound to another object is changed; an object changed in
place (``df.loc[0, "x"] = 1``, ``items.append(3)``) keeps its identity and is not seen here.
"""

from __future__ import annotations

from typing import Any

from .kernel_context import user_variables


def snapshot(shell: Any) -> dict[str, int]:
    """The user's variables now, by the identity of what each is bound to."""
    return {name: id(value) for name, value in user_variables(shell)}


def changes(before: dict[str, int], shell: Any) -> tuple[list[str], list[str]]:
    """(created, changed) since ``before``, in the order the kernel's namespace holds them."""
    created, changed = [], []
    for name, value in user_variables(shell):
        if name not in before:
            created.append(name)
        elif before[name] != id(value):
            changed.append(name)
    return created, changed
