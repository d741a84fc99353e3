"""Prompt templates as data, with presets per model family.

Templates are filled with ``str.replace`` on their named placeholders (not ``str.format``), so a
user's template may contain literal braces, as Python code in a one-shot example does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SYSTEM_TEMPLATE = '''\
You are a careful Python assistant working inside the user's live Jupyter kernel. You solve the \
user's task by writing Python code; the kernel runs it and shows you the real output; then you \
continue until you can answer.

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

OUTPUT_TEMPLATE = "Execution result:\n{execution_feedback}"

VARIABLES_TEMPLATE = (
    "Variables already in the kernel (use them as they are; do not redefine them):\n{variables}"
)

ERROR_TEMPLATE = (
    "Execution failed:\n{execution_feedback}\n"
    "Fix the code and run it again, or answer in plain words if it cannot be done."
)


@dataclass(frozen=True)
class Prompts:
    """Everything the loop says to a model, beyond the user's own words."""

    system: str = SYSTEM_TEMPLATE
    execution_output: str = OUTPUT_TEMPLATE
    execution_error: str = ERROR_TEMPLATE
    variables: str = VARIABLES_TEMPLATE
    # Sent to the server as ``stop``; the reply is cut client-side whatever the server does.
    stop: tuple[str, ...] = ()

    def system_message(self, python_modules: str = "") -> str:
        block = f"\n{python_modules.strip()}\n" if python_modules.strip() else ""
        return self.system.replace("{python_modules}", block)

    def request_message(self, request: str, variables: str = "") -> str:
        """The user's request, with what the kernel already holds."""
        if not variables.strip():
            return request
        return f"{request}\n\n{self.variables.replace('{variables}', variables)}"

    def feedback(self, text: str, *, failed: bool) -> str:
        template = self.execution_error if failed else self.execution_output
        return template.replace("{execution_feedback}", text)


PRESETS: dict[str, Prompts] = {
    "default": Prompts(),
    # Qwen Coder models go on to invent a ```output block after their code, and local servers
    # sometimes leak the next chat turn; stopping there saves the tokens (as freeact's QwenCoder does).
    "qwen": Prompts(stop=("```output", "<|im_start|>")),
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
