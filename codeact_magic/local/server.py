"""The embedded model's server: llama.cpp's OpenAI-compatible server on 127.0.0.1, managed for the user.

Started on first use, it serves every kernel of the same user while it lives: a small state file
in the cache directory (mode 0600 from its creation: it holds the key) says where it is. A random
API key keeps other local users out; it reaches the server through its environment, not its
command line.

A state file is trusted only as far as it can be checked. The recorded process must still be that
very process (same start time, our command line), not a reused pid, before anything is sent to
its port (the key included) or a signal to it; a process that is not ours is never signalled. A
stale or broken state is replaced, and what went wrong goes to the log: it never makes later runs
fail.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .cache import cache_dir, locked
from .serve import (ENV_ALIAS, ENV_CONTEXT, ENV_INSTANCE, ENV_KEY, ENV_MODEL, ENV_PORT, ENV_THREADS,
                    HEALTH, USAGE)
from .weights import QWEN_CODER_1_5B, Weights, ensure_weights

ALIAS = "qwen2.5-coder-1.5b-instruct"
MODEL_ID = "local/" + ALIAS  # how runs and %codeact status name it
SERVE_MODULE = "codeact_magic.local.serve"
START_TIMEOUT = 180.0
CONTEXT_TOKENS = 8192  # KV cache ~235 MB for this model; long runs fit


class LocalServerError(Exception):
    pass


@dataclass(frozen=True)
class ServerState:
    pid: int
    port: int
    api_key: str
    model_path: str
    alias: str
    started_at: float
    log: str
    instance: str = ""  # what the health route answers with: this very server
    process_started: float = 0.0  # the process's own start time, to tell it from a reused pid

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _state_file(directory: Path) -> Path:
    return directory / "server.json"


def read_state(directory: Path | None = None) -> ServerState | None:
    try:
        data = json.loads(_state_file(directory or cache_dir()).read_text())
        known = {f.name for f in fields(ServerState)}
        return ServerState(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None


def _write_state(directory: Path, state: ServerState) -> None:
    path = _state_file(directory)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    # Created 0600: the key is never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(state), f)
    os.replace(tmp, path)


def _log(directory: Path, text: str) -> None:
    try:
        with (directory / "server.log").open("a") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
    except OSError:
        pass


# ---- is it ours? ----

def _process(state: ServerState) -> Any:
    """The server's process if the recorded pid is still that very process, else None."""
    import psutil

    try:
        process = psutil.Process(state.pid)
        command = " ".join(process.cmdline())
        started = process.create_time()
    except (psutil.Error, OSError):
        return None  # gone, or not ours to look at
    if state.process_started:
        same = abs(started - state.process_started) < 1.0 and SERVE_MODULE in command
    else:
        # A state file of 0.1, whose server ran llama_cpp.server with the key on its command line.
        same = ("llama_cpp.server" in command and state.model_path in command
                and started <= state.started_at + 5)
    return process if same else None


def health(state: ServerState, timeout: float = 2.0) -> dict | None:
    """The server's health, if it answers as this very instance (it answers at once, even while
    the model generates: the route takes no model lock)."""
    request = urllib.request.Request(f"http://127.0.0.1:{state.port}{HEALTH}",
                                     headers={"Authorization": f"Bearer {state.api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return data if data.get("instance") == state.instance else None


def answers(state: ServerState, timeout: float = 2.0) -> bool:
    """Ours and up: its process is the recorded one, and it answers as that instance."""
    return _process(state) is not None and health(state, timeout) is not None


usable = answers


def busy_note(state: ServerState) -> str | None:
    """A line for a run that is about to wait for the model, or None when it is free."""
    data = health(state, timeout=1.0)
    if data and (data.get("busy") or data.get("queued")):
        return "the local model is answering another request; this run waits its turn…"
    return None


def count_tokens(state: ServerState, messages: list[dict], text: str) -> tuple[int, int] | None:
    """Prompt and completion tokens exactly as the model counts them (its template and tokenizer),
    for a reply whose stream was closed before the server reported usage; None if it cannot say."""
    body = json.dumps({"messages": messages, "text": text}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{state.port}{USAGE}", data=body,
                                     headers={"Authorization": f"Bearer {state.api_key}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.loads(response.read())
        return int(data["prompt_tokens"]), int(data["completion_tokens"])
    except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError):
        return None


# ---- starting and stopping ----

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def threads() -> int:
    # llama.cpp's own default is cpu_count // 2, which leaves half of a small machine idle.
    return max(1, min(os.cpu_count() or 2, 8))


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _start(model: Path, directory: Path, progress: Callable[[str], None]) -> ServerState:
    import psutil

    port, key, instance = _free_port(), secrets.token_urlsafe(24), secrets.token_hex(8)
    log = directory / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", ENV_KEY: key, ENV_INSTANCE: instance,
           ENV_PORT: str(port), ENV_MODEL: str(model), ENV_ALIAS: ALIAS,
           ENV_CONTEXT: str(CONTEXT_TOKENS), ENV_THREADS: str(threads())}
    progress("starting the local model server…")
    _log(directory, f"starting on port {port}")
    with log.open("ab") as out:
        # Its own session: the server outlives the kernel that started it, for the user's other kernels.
        process = subprocess.Popen([sys.executable, "-m", SERVE_MODULE], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env=env)
    try:
        process_started = psutil.Process(process.pid).create_time()
    except psutil.Error:
        process_started = 0.0
    state = ServerState(process.pid, port, key, str(model), ALIAS, time.time(), str(log), instance,
                        process_started)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalServerError(f"The local model server exited at start (code {process.returncode}). "
                                   f"Its log ({log}) ends with:\n{_log_tail(log)}")
        if health(state, timeout=1.0) is not None:
            _write_state(directory, state)
            return state
        time.sleep(0.25)
    process.kill()
    raise LocalServerError(f"The local model server did not answer within {START_TIMEOUT:.0f} s. "
                           f"Its log ({log}) ends with:\n{_log_tail(log)}")


def _retire(state: ServerState, directory: Path, grace: float = 5.0) -> None:
    """End the recorded server if it is provably ours; forget the state either way. Never raises:
    a state that cannot be cleaned up must not stop the next run."""
    import psutil

    process = _process(state)
    if process is not None:
        try:
            process.terminate()
            try:
                process.wait(grace)
            except psutil.TimeoutExpired:
                process.kill()
                process.wait(grace)
        except (psutil.Error, OSError) as exc:
            _log(directory, f"could not stop the old server (pid {state.pid}): {exc}")
    elif state.pid:
        _log(directory, f"stale state: pid {state.pid} is not our server any more; left alone")
    try:
        _state_file(directory).unlink(missing_ok=True)
    except OSError as exc:
        _log(directory, f"could not remove the state file: {exc}")


def ensure_running(progress: Callable[[str], None] = lambda _: None, weights: Weights = QWEN_CODER_1_5B,
                   directory: Path | None = None) -> ServerState:
    """The running server's state, joining the weights and starting the server first if needed."""
    directory = directory or cache_dir()
    state = read_state(directory)
    if state is not None and answers(state):
        return state
    with locked(directory / "server.lock"):
        state = read_state(directory)  # another kernel may have started it meanwhile
        if state is not None and answers(state):
            return state
        if state is not None:
            _retire(state, directory)  # stale: gone, not ours any more, or not answering
        try:
            import llama_cpp  # noqa: F401  (only to say clearly when the runtime is missing)
        except ImportError:
            raise LocalServerError("The local model runtime is not installed: "
                                   "pip install 'codeact-magic[local]'") from None
        model = ensure_weights(weights, directory, progress)
        return _start(model, directory, progress)


def stop(directory: Path | None = None) -> ServerState | None:
    """Stop the server if one is recorded; return what was stopped."""
    directory = directory or cache_dir()
    with locked(directory / "server.lock"):
        state = read_state(directory)
        if state is not None:
            _retire(state, directory)
        return state


def memory_bytes(pid: int) -> int | None:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except Exception:
        return None
