"""The embedded model's server: llama.cpp's OpenAI-compatible server on 127.0.0.1, managed for the user.

Started on first use, it serves every kernel of the same user while it lives: a small state file
in the cache directory says where it is. A random API key keeps other local users out. A state file
whose server no longer answers (with that key) is stale and replaced.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .cache import cache_dir, locked
from .weights import QWEN_CODER_1_5B, Weights, ensure_weights

ALIAS = "qwen2.5-coder-1.5b-instruct"
MODEL_ID = "local/" + ALIAS  # how runs and %codeact status name it
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

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _state_file(directory: Path) -> Path:
    return directory / "server.json"


def read_state(directory: Path | None = None) -> ServerState | None:
    try:
        return ServerState(**json.loads(_state_file(directory or cache_dir()).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def answers(state: ServerState, timeout: float = 2.0) -> bool:
    """The server answers on its port, to its key: it is ours and it is up."""
    request = urllib.request.Request(f"{state.api_base}/models",
                                     headers={"Authorization": f"Bearer {state.api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def usable(state: ServerState) -> bool:
    """Alive and ours. A server busy with another kernel's long prompt may not answer at once;
    alive and listening on its port is enough then (it is not replaced under that kernel)."""
    if not _pid_alive(state.pid):
        return False
    if answers(state):
        return True
    try:
        with socket.create_connection(("127.0.0.1", state.port), timeout=1.0):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    port, key = _free_port(), secrets.token_urlsafe(24)
    log = directory / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS,
               "--host", "127.0.0.1", "--port", str(port), "--api_key", key, "--n_ctx", str(CONTEXT_TOKENS),
               "--n_threads", str(threads()), "--n_threads_batch", str(threads())]
    progress("starting the local model server…")
    with log.open("ab") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting on port {port}\n".encode())
        out.flush()
        # Its own session: the server outlives the kernel that started it, for the user's other kernels.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    state = ServerState(process.pid, port, key, str(model), ALIAS, time.time(), str(log))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalServerError(f"The local model server exited at start (code {process.returncode}). "
                                   f"Its log ({log}) ends with:\n{_log_tail(log)}")
        if answers(state, timeout=1.0):
            state_file = _state_file(directory)
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(state)))
            os.chmod(tmp, 0o600)  # it holds the key
            os.replace(tmp, state_file)
            return state
        time.sleep(0.25)
    process.kill()
    raise LocalServerError(f"The local model server did not answer within {START_TIMEOUT:.0f} s. "
                           f"Its log ({log}) ends with:\n{_log_tail(log)}")


def ensure_running(progress: Callable[[str], None] = lambda _: None, weights: Weights = QWEN_CODER_1_5B,
                   directory: Path | None = None) -> ServerState:
    """The running server's state, joining the weights and starting the server first if needed."""
    directory = directory or cache_dir()
    state = read_state(directory)
    if state is not None and usable(state):
        return state
    with locked(directory / "server.lock"):
        state = read_state(directory)  # another kernel may have started it meanwhile
        if state is not None and usable(state):
            return state
        if state is not None:
            _terminate(state.pid)  # stale: alive but not answering, or gone
            _state_file(directory).unlink(missing_ok=True)
        try:
            import llama_cpp  # noqa: F401  (only to say clearly when the runtime is missing)
        except ImportError:
            raise LocalServerError("The local model runtime is not installed: "
                                   "pip install 'codeact-magic[local]'") from None
        model = ensure_weights(weights, directory, progress)
        return _start(model, directory, progress)


def _terminate(pid: int, grace: float = 5.0) -> None:
    if not _pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child; otherwise just watch it go.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            if not _pid_alive(pid):
                return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(directory: Path | None = None) -> ServerState | None:
    """Stop the server if one is recorded; return what was stopped."""
    directory = directory or cache_dir()
    with locked(directory / "server.lock"):
        state = read_state(directory)
        if state is not None:
            _terminate(state.pid)
            _state_file(directory).unlink(missing_ok=True)
        return state


def memory_bytes(pid: int) -> int | None:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except Exception:
        return None
