from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scripted_server import Reply, ScriptedServer  # noqa: E402

MODEL = "openai/scripted"
# Tests of the loop's mechanics script every model reply, so they pin the tactics that add model
# calls of their own (a nudge, the request restated before the answer) off: CodeAct.tactics =
# "none", through an IPython profile that every kernel and server the tests start reads.
# test_tactics.py tests each tactic; the real-model tests run with the defaults.
MECHANICS_TACTICS = "none"
_IPYTHONDIR = Path(tempfile.mkdtemp(prefix="codeact-tests-ipython-"))
(_IPYTHONDIR / "profile_default").mkdir()
(_IPYTHONDIR / "profile_default" / "ipython_config.py").write_text(
    f"c.CodeAct.tactics = {MECHANICS_TACTICS!r}\n")
os.environ["IPYTHONDIR"] = str(_IPYTHONDIR)


def defaults_env() -> dict[str, str]:
    """The environment of a kernel that runs with the user's defaults (no pinned tactics)."""
    return {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL", "IPYTHONDIR")}


def code(src: str, thought: str = "Let me run this.") -> str:
    """A model reply that runs ``src``."""
    return f"{thought}\n```python\n{src.strip()}\n```"


@pytest.fixture(scope="session")
def server():
    srv = ScriptedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def model(server):
    """The scripted server, emptied, and the magic's options that reach it."""
    server.reset()
    return server


def options(server: ScriptedServer, extra: str = "") -> str:
    return f"--model {MODEL} --api-base {server.url} {extra}".strip()


# ---- an in-process IPython shell (a terminal shell, as in plain IPython) ----

@pytest.fixture(scope="session")
def _shell():
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()  # the one in-process shell (started on first use)
    shell.run_line_magic("load_ext", "codeact_magic")
    _pin_tactics(shell)
    return shell


def _pin_tactics(shell) -> None:
    from codeact_magic.config import config_of

    config_of(shell).tactics = MECHANICS_TACTICS


@pytest.fixture
def ip(_shell, model):
    from codeact_magic.config import CodeAct
    from codeact_magic.memory import memory_of
    from codeact_magic.recent_cells import recent_cells

    # Each test is a conversation of its own, as in a fresh kernel, and leaves no variables behind:
    # the model is told of the newest 30 only, and a name defined again keeps its old place.
    memory_of(_shell).forget()
    recent_cells(_shell).cells.clear()
    names = set(_shell.user_ns)
    yield _shell
    for name in set(_shell.user_ns) - names:
        if not name.startswith("_"):
            del _shell.user_ns[name]
    for c in _shell.configurables:
        if isinstance(c, CodeAct):  # back to the defaults for the next test
            for name in c.trait_names(config=True):
                setattr(c, name, c.trait_defaults(name))
    _pin_tactics(_shell)


def run_cell(shell, source: str):
    result = shell.run_cell(source, store_history=True)
    return result


# ---- a real Jupyter kernel in a subprocess ----

class Kernel:
    def __init__(self, env: dict[str, str]) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def execute(self, source: str, timeout: float = 60) -> tuple[dict, list[dict]]:
        """Run ``source``; return the execute reply's content and the iopub messages of the cell."""
        messages: list[dict] = []
        reply = self.kc.execute_interactive(source, output_hook=messages.append, timeout=timeout)
        return reply["content"], messages

    def value(self, expr: str):
        """Evaluate ``expr`` in the kernel and return it (through repr/eval); out of the history,
        as a frontend's own inspection is (the next run is not told of it as the user's cell)."""
        messages: list[dict] = []
        reply = self.kc.execute_interactive(f"print(repr({expr}))", output_hook=messages.append,
                                            timeout=60, store_history=False)
        content, msgs = reply["content"], messages
        assert content["status"] == "ok", content
        text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
        import ast

        return ast.literal_eval(text.strip())

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


SECRET = "s3cr3t-value-of-a-token-991"


@pytest.fixture(scope="module")
def kernel():
    env = dict(os.environ)
    env["MY_SERVICE_TOKEN"] = SECRET
    env.pop("CODEACT_MODEL", None)
    # ipykernel does not forward child processes' output when it runs under pytest (it sees this
    # variable): without it the kernel is the one JupyterLab starts.
    env.pop("PYTEST_CURRENT_TEST", None)
    k = Kernel(env)
    content, _ = k.execute("%load_ext codeact_magic\nimport codeact_magic")
    assert content["status"] == "ok"
    yield k
    k.shutdown()


def texts(messages: list[dict]) -> str:
    """Everything a user would read in the cell's output, as text."""
    parts = []
    for m in messages:
        c = m["content"]
        if m["msg_type"] == "stream":
            parts.append(c["text"])
        elif m["msg_type"] in ("display_data", "update_display_data", "execute_result"):
            parts.append(c["data"].get("text/markdown") or c["data"].get("text/plain", ""))
        elif m["msg_type"] == "error":
            parts.append(f"{c['ename']}: {c['evalue']}")
    return "\n".join(parts)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


__all__ = ["Reply", "code", "options", "run_cell", "texts", "wait_for", "defaults_env", "SECRET", "MODEL"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures see whether their test failed (the browser tests screenshot the page then).
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
