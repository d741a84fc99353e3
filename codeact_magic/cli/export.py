"""``codeact export``: runs as fine-tuning records.

Sources: notebooks written by ``codeact run`` (each run's conversation is kept in its last cell,
``metadata.codeact.conversation``) and the JSONL outcome files of ``benchmarks/`` (each line's
``trajectory``). A record is the conversation the model had: the system prompt, the request, each
code action and the execution feedback as the model saw it, and the final answer. Secrets are
redacted again on the way out (the conversation was redacted when it was recorded).

Formats (one JSON object per line):

- ``openai``: ``{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}]}``, the chat
  fine-tuning format: roles alternate user/assistant after an optional system message, the first
  is a user message and the last an assistant one, no content is empty.
- ``sharegpt``: ``{"conversations": [{"from": "system"|"human"|"gpt", "value": "..."}]}``.
- ``alpaca``: ``{"instruction": request, "input": "", "output": the trajectory as one text}``, the
  system prompt aside, as FireAct turns agent trajectories into Alpaca records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..redact import redact, secret_values

FORMATS = ("openai", "sharegpt", "alpaca")
_ROLES = {"system", "user", "assistant"}


class InvalidRecord(ValueError):
    pass


@dataclass
class Trajectory:
    source: str  # where it came from: "file.ipynb#run_id" or "results.jsonl:task"
    messages: list[dict[str, str]]
    status: str | None
    solved: bool | None = None


def from_notebook(path: Path) -> Iterator[Trajectory]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("codeact") or {}
        if meta.get("conversation"):
            yield Trajectory(f"{path.name}#{meta.get('run_id')}", meta["conversation"], meta.get("run_status"))


def from_results(path: Path) -> Iterator[Trajectory]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("trajectory"):
                score = row.get("score") or {}
                solved = score.get("solved", score.get("first")) if isinstance(score, dict) else None
                yield Trajectory(f"{path.name}:{row.get('task', number)}", row["trajectory"],
                                 row.get("status"), solved)


def trajectories(paths: list[Path]) -> Iterator[Trajectory]:
    for path in paths:
        yield from (from_notebook(path) if path.suffix == ".ipynb" else from_results(path))


def _clean(messages: list[dict[str, Any]], secrets: list[str]) -> list[dict[str, str]]:
    """Redacted, with consecutive messages of one role joined (a chat format alternates)."""
    out: list[dict[str, str]] = []
    for m in messages:
        role, content = m.get("role"), str(m.get("content") or "")
        if role not in _ROLES or not content.strip():
            continue
        content = redact(content, secrets)
        if out and out[-1]["role"] == role:
            out[-1]["content"] += "\n\n" + content
        else:
            out.append({"role": role, "content": content})
    while out and out[-1]["role"] != "assistant":
        out.pop()  # a record ends on the model's turn
    return out


def check_openai(record: dict[str, Any]) -> None:
    """The published rules of the chat fine-tuning format that a record can break."""
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRecord("no messages")
    body = messages[1:] if messages[0].get("role") == "system" else messages
    if not body or body[0].get("role") != "user":
        raise InvalidRecord("the first message after the system message must be the user's")
    for i, m in enumerate(body):
        if set(m) != {"role", "content"} or not isinstance(m["content"], str) or not m["content"].strip():
            raise InvalidRecord(f"message {i} must have a role and a non-empty content")
        if m["role"] != ("user" if i % 2 == 0 else "assistant"):
            raise InvalidRecord(f"message {i} breaks the user/assistant alternation")
    if body[-1]["role"] != "assistant":
        raise InvalidRecord("the last message must be the assistant's")


def record(trajectory: Trajectory, fmt: str, secrets: list[str]) -> dict[str, Any] | None:
    messages = _clean(trajectory.messages, secrets)
    if not any(m["role"] == "user" for m in messages):
        return None
    if fmt == "openai":
        rec: dict[str, Any] = {"messages": messages}
        check_openai(rec)
        return rec
    if fmt == "sharegpt":
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        return {"conversations": [{"from": names[m["role"]], "value": m["content"]} for m in messages]}
    if fmt == "alpaca":
        body = [m for m in messages if m["role"] != "system"]
        turns = [("Assistant: " if m["role"] == "assistant" else "") + m["content"] for m in body[1:]]
        return {"instruction": body[0]["content"], "input": "", "output": "\n\n".join(turns)}
    raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def export(paths: list[Path], fmt: str, out: Path, *, only_answered: bool = False,
           only_solved: bool = False) -> tuple[int, int]:
    """Write the records; returns (written, skipped)."""
    secrets = secret_values()
    written = skipped = 0
    with out.open("w", encoding="utf-8") as f:
        for t in trajectories(paths):
            if (only_answered and t.status != "answered") or (only_solved and t.solved is not True):
                skipped += 1
                continue
            rec = record(t, fmt, secrets)
            if rec is None:
                skipped += 1
                continue
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            written += 1
    return written, skipped
