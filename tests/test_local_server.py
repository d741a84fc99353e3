"""The embedded model's server, for real (llama.cpp, the real weights): shared by kernels, never
cutting one kernel's reply for another's request, its key on no command line, its state file
trusted only as far as it can be checked."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time

import pytest
from conftest import Kernel, defaults_env, texts

from codeact_magic.local import server
from codeact_magic.local.server import ensure_running, health, read_state

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def running():
    return ensure_running()


def _state_path():
    from codeact_magic.local.cache import cache_dir

    return cache_dir() / "server.json"


def test_the_key_is_on_no_command_line_and_the_state_is_private(running):
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert "codeact_magic.local.serve" in listing  # the server is there...
    assert running.api_key not in listing  # ...and its key is not in what every user can read
    assert stat.S_IMODE(os.stat(_state_path()).st_mode) == 0o600


def test_health_answers_while_the_model_is_busy(running):
    import urllib.request

    body = json.dumps({"model": server.ALIAS, "max_tokens": 200, "temperature": 0, "stream": False,
                       "messages": [{"role": "user", "content": "Count from 1 to 100, one per line."}]})
    request = urllib.request.Request(f"{running.api_base}/chat/completions", data=body.encode(),
                                     headers={"Authorization": f"Bearer {running.api_key}",
                                              "Content-Type": "application/json"})
    worker = threading.Thread(target=lambda: urllib.request.urlopen(request, timeout=300).read())
    worker.start()
    try:
        time.sleep(1.5)
        started = time.monotonic()
        info = health(running, timeout=5)
        assert time.monotonic() - started < 1.0  # no waiting behind the generation
        assert info is not None and info["busy"] is True
        assert server.busy_note(running) is not None
    finally:
        worker.join()
    assert health(running)["busy"] is False and server.busy_note(running) is None


def test_a_reused_pid_is_never_signalled_and_the_state_is_replaced(running):
    # As after a reboot: the server is gone, and its pid now belongs to some other process.
    server.stop()
    stranger = subprocess.Popen(["sleep", "300"])  # not our server, whatever the state file says
    try:
        fake = {**running.__dict__, "pid": stranger.pid}
        _state_path().write_text(json.dumps(fake))
        state = ensure_running()
        assert stranger.poll() is None  # alive: never signalled
        assert state.pid != stranger.pid and health(state) is not None
        assert read_state() == state
    finally:
        stranger.kill()


def test_a_broken_state_file_does_not_stop_the_next_run():
    server.stop()  # (the state file is written whole or not at all: a broken one has no server)
    _state_path().write_text("{not json")
    state = ensure_running()
    assert health(state) is not None
    server.stop()
    fake = {**state.__dict__, "pid": 1, "port": 1}  # pid 1 is no server of ours
    _state_path().write_text(json.dumps(fake))
    state = ensure_running()
    assert health(state) is not None and state.pid != 1


@pytest.mark.timeout(900)
def test_two_kernels_at_once_both_get_whole_answers():
    kernels = [Kernel(defaults_env()), Kernel(defaults_env())]
    try:
        for k in kernels:
            assert k.execute("%load_ext codeact_magic")[0]["status"] == "ok"
        requests = ["What is 123 * 456? Compute it with Python.", "What is 2 ** 20? Compute it with Python."]
        results: list = [None, None]

        def run(i: int) -> None:
            results[i] = kernels[i].execute(f"%%codeact\n{requests[i]}", timeout=600)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
            time.sleep(0.5)  # the second asks while the first is being answered
        for t in threads:
            t.join()
        outputs = [texts(msgs) for _, msgs in results]
        for (content, _), output in zip(results, outputs):
            assert content["status"] == "ok"
            assert "empty reply" not in output and "Answered after" in output
        assert "56088" in outputs[0].replace(",", "") and "1048576" in outputs[1].replace(",", "")
    finally:
        for k in kernels:
            k.shutdown()
