"""The embedded model, for real: weights joined from the pinned packages, llama.cpp's server, a
public dev task set and a fixed slice of the data-analysis dev set answered by `%%codeact` cells
with no model option (the default tactics), in a real kernel.

A small model is not exact: the assertions are robust properties (k of n tasks solved, every solved
task computed by a step, the right number in the answer), not exact text.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from conftest import Kernel, defaults_env, texts
from dev_tasks import TASKS, computed, solved, typed_literal
from follow_up_tasks import SESSIONS
from nbclient import NotebookClient

from codeact_magic.local.server import MODEL_ID, read_state

pytestmark = pytest.mark.kernel
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "notebooks" / "quickstart.ipynb"
MIN_SOLVED = 9  # of 12; measured: 12/12 and 11/12 at temperature 0 (see the issue note)


@pytest.fixture(scope="module")
def local_kernel():
    kernel = Kernel(defaults_env())
    content, _ = kernel.execute("%load_ext codeact_magic\nimport codeact_magic\n"
                                "%config CodeAct.max_steps = 6")
    assert content["status"] == "ok"
    yield kernel
    kernel.shutdown()


def test_the_embedded_model_is_the_default(local_kernel):
    content, msgs = local_kernel.execute("%codeact status")
    shown = texts(msgs)
    assert MODEL_ID in shown and "embedded default" in shown


@pytest.mark.timeout(1800)  # twelve real-model tasks on two cores
def test_dev_task_set(local_kernel):
    results = []
    for task in TASKS:
        local_kernel.execute("%reset -f")
        if task.setup:
            assert local_kernel.execute(task.setup)[0]["status"] == "ok"
        # Each task a conversation of its own (runs in one kernel otherwise go on with each other).
        content, msgs = local_kernel.execute(f"%%codeact --new\n{task.request}", timeout=300)
        assert content["status"] == "ok", content
        info = run_info(local_kernel)
        assert info["model"] == MODEL_ID and info["cost"] == 0.0
        ok = solved(task, info["answer"])
        results.append((task.name, ok, info["steps"], info["answer"]))
        if ok:
            assert computed(task, info["outputs"], info["answer_code"]), \
                f"{task.name} was answered without computing the answer: {info}"
    report = "\n".join(f"{'OK' if ok else '--'} {name}: {steps} steps, {answer!r}"
                       for name, ok, steps, answer in results)
    print(report)
    assert sum(ok for _, ok, _, _ in results) >= MIN_SOLVED, report


def run_info(kernel: Kernel) -> dict:
    return kernel.value(
        "(lambda r: {'status': r.status, 'answer': r.answer, 'steps': len(r.steps), 'model': r.model, "
        "'cost': r.usage.cost, 'outputs': [s.output for s in r.steps], "
        "'answer_code': r.steps[r.answer_step - 1].code if r.answer_step else None})"
        "(__import__('codeact_magic').last_run())")


# ---- a fixed slice of the data-analysis dev set (InfiAgent-DABench), data read where it lies ----

DABENCH = Path(os.environ.get("CODEACT_DABENCH", Path(__file__).resolve().parents[2] / "shared" /
                              "benchmarks" / "dabench-dev"))
DABENCH_EVERY = 15  # every 15th question: 11 of the 156, spread over files and levels
# Of 11. Measured: 3/11 with the grammar-forced first reply (CI); on the 20-question slice (every
# 8th) the defaults solved 11/20 against 1/20 for the 0.1 loop, which is about 0.5 of these 11.
# Runs at temperature 0 still vary by a question or so between machines: the margin.
DABENCH_MIN_SOLVED = 2


@pytest.mark.timeout(2400)
def test_dabench_slice(local_kernel):
    if not (DABENCH / "questions.jsonl").exists():
        pytest.skip(f"the DABench dev set is not at {DABENCH} (set CODEACT_DABENCH)")
    from codeact_magic.bench.dabench import in_outputs, load, score

    questions = load(DABENCH)[::DABENCH_EVERY]
    results = []
    for q in questions:
        local_kernel.execute("%reset -f")
        content, msgs = local_kernel.execute(f"%%codeact --new\n{q.request()}", timeout=600)
        assert content["status"] == "ok", content
        info = run_info(local_kernel)
        ok = score(q, info["answer"])["solved"]
        results.append((q.id, ok, info["steps"], info["answer"]))
        if ok:
            outputs = "\n".join(info["outputs"])
            from_code = info["answer_code"] is not None and not typed_literal(info["answer_code"])
            assert from_code or all(in_outputs(v, outputs) for _, v in q.labels), \
                f"question {q.id} was answered without computing the answer: {info}"
    report = "\n".join(f"{'OK' if ok else '--'} {qid}: {steps} steps, {answer!r}"[:200]
                       for qid, ok, steps, answer in results)
    print(report)
    assert sum(ok for _, ok, _, _ in results) >= DABENCH_MIN_SOLVED, report


# The follow-up task set's first three sessions: a table loaded by one run, asked about by the next.
FOLLOW_UPS = [s for s in SESSIONS if s.slug == "missing"][:3]
FOLLOW_UPS_MIN_RIGHT = 1  # of 3: measured 2/3 and 1/3 here, 1/3 on CI (which table fails moves between
# machines at temperature 0; the misses read the printed counts wrong or list them all). The whole
# set of twelve is benchmarks/follow_ups.py.


@pytest.mark.timeout(1200)
def test_a_follow_up_request_goes_on_from_the_run_before(local_kernel, tmp_path):
    import pandas as pd

    # Two cells, as a user writes them: the second names neither the file nor the DataFrame.
    right = []
    for session in FOLLOW_UPS:
        name = session.table.name
        data = session.table.write(tmp_path)
        frame = pd.read_csv(data)
        column, count = session.truth(frame), int(frame.isna().sum().max())
        local_kernel.execute("%reset -f")
        content, _ = local_kernel.execute(f"%%codeact --new\n{session.table.load_request(data)}", timeout=300)
        assert content["status"] == "ok" and local_kernel.value(f"type({name}).__name__") == "DataFrame"
        content, msgs = local_kernel.execute(f"%%codeact\n{session.question}", timeout=300)
        assert content["status"] == "ok"
        info = run_info(local_kernel)
        codes = local_kernel.value("[s.code for s in __import__('codeact_magic').last_run().steps]")
        assert local_kernel.value("__import__('codeact_magic').last_run().earlier") > 0  # went on from the first
        # It worked on the table of the first run (the DataFrame, or the file only that run named).
        assert any(name in c for c in codes), codes
        # Answered right: that column named, no other one; and then a step computed it (the column's
        # count beside its name, or the name alone). A wrong answer may come from any code (CI saw
        # one that never printed the counts), which is what the k of n below allows for.
        right.append(session.right(frame, info["answer"]))
        if right[-1]:
            assert any(re.search(rf"{column}\W+{count}\b", out) or out.strip().strip("'\"") == column
                       for out in info["outputs"]), f"{name} was answered without computing it: {info}"
        print(f"{'OK' if right[-1] else '--'} {name}: {info['answer']!r}")
    assert sum(right) >= FOLLOW_UPS_MIN_RIGHT, right


@pytest.mark.timeout(900)
def test_the_server_is_shared_by_kernels_and_a_stale_one_is_replaced(local_kernel):
    state = read_state()
    assert state is not None
    other = Kernel(defaults_env())
    try:
        other.execute("%load_ext codeact_magic")
        content, msgs = other.execute("%%codeact\nWhat is 17 * 23? Compute it.", timeout=300)
        assert content["status"] == "ok"
        assert read_state().pid == state.pid  # reused, not started again
        # Stop it behind everyone's back and leave a stale state file: the next run replaces it.
        other.execute("%codeact stop-local")
        stale = {**state.__dict__, "pid": 999_999}
        (Path(state.log).parent / "server.json").write_text(__import__("json").dumps(stale))
        local_kernel.execute("%reset -f")  # the earlier tests' variables are not this question's
        content, msgs = local_kernel.execute("%%codeact --new\nWhat is 12 * 12? Compute it.", timeout=300)
        # The run went through the new server (what the model answered is the dev set's matter).
        assert content["status"] == "ok" and "Answered after" in texts(msgs)
        fresh = read_state()
        assert fresh.pid not in (state.pid, 999_999) and fresh.api_key != state.api_key
    finally:
        other.shutdown()


@pytest.mark.timeout(900)
def test_the_example_notebook_answers_with_the_embedded_model(tmp_path, monkeypatch):
    monkeypatch.delenv("IPYTHONDIR")  # the user's defaults, not the mechanics tests' pinned tactics
    nb = nbformat.read(EXAMPLE, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = {i: texts([{"msg_type": o["output_type"], "content": o} for o in cell.get("outputs", [])])
               for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    answers = [o for o in outputs.values() if "Answered after" in o]
    assert len(answers) == 2, "\n---\n".join(outputs.values())[-6000:]
    assert "338350" in answers[0].replace(",", "")
    assert "Oslo" in answers[1] and "263" in answers[1]


@pytest.mark.timeout(900)
def test_codeact_run_on_the_example_notebook_with_the_embedded_model(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "answered.ipynb"
    env = {k: v for k, v in defaults_env().items() if k != "PYTEST_CURRENT_TEST"}
    done = subprocess.run([sys.executable, "-m", "codeact_magic", "run", str(EXAMPLE),
                           # The notebook's own question, which the model answers in it (the test
                           # above): the same answer must come out of the headless run.
                           "Which city in `sales` has the largest total amount, and what is that total?",
                           "--output", str(out)], capture_output=True, text=True, env=env, timeout=840)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    added = nb.cells[len(nbformat.read(EXAMPLE, as_version=4).cells):]
    steps = [c for c in added if c.get("metadata", {}).get("codeact", {}).get("step") not in (None, "answer")]
    [answer] = [c for c in added if c.cell_type == "markdown"]
    assert steps and all(isinstance(s.execution_count, int) for s in steps)
    assert "Oslo" in answer.source and "263" in answer.source, answer.source


@pytest.mark.timeout(900)
def test_codeact_serve_is_one_model_for_kernels_configured_from_the_environment(tmp_path):
    """`codeact serve` as a class's shared server: kernels set up by the three environment
    variables a hub admin sets run on it, and none starts an embedded server of its own."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = "class-key-" + "x" * 20
    env = {**defaults_env(), "CLASS_KEY": key}
    log = tmp_path / "serve.log"  # llama.cpp's loading is verbose: a pipe nobody reads would fill
    server = subprocess.Popen([sys.executable, "-m", "codeact_magic", "serve", "--port", str(port),
                               "--key-env", "CLASS_KEY"], env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    kernel = None
    try:
        base = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                urllib.request.urlopen(f"{base}/models", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # up
            except OSError:
                assert time.monotonic() < deadline, "codeact serve did not come up"
                time.sleep(1)
        # A request for the model without the key is refused.
        ask = urllib.request.Request(f"{base}/chat/completions", method="POST",
                                     headers={"Content-Type": "application/json"},
                                     data=b'{"messages": [{"role": "user", "content": "hi"}]}')
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(ask, timeout=30)
        assert refused.value.code == 401
        own = read_state()
        kernel = Kernel({**env, "CODEACT_MODEL": "openai/qwen2.5-coder-1.5b-instruct",
                         "CODEACT_API_BASE": base, "CODEACT_API_KEY_ENV": "CLASS_KEY"})
        kernel.execute("%load_ext codeact_magic")
        status = texts(kernel.execute("%codeact status")[1])
        assert "key:          from $CLASS_KEY (set)" in status and key not in status
        content, msgs = kernel.execute("%%codeact\nWhat is 17 * 23? Compute it.", timeout=600)
        shown = texts(msgs)
        assert content["status"] == "ok" and "Answered after" in shown, shown[-2000:]
        assert "openai/qwen2.5-coder-1.5b-instruct" in shown and key not in shown
        # No kernel started a model of its own: the per-user server is as it was.
        after = read_state()
        assert (own is None and after is None) or (after is not None and after.pid == own.pid)
    finally:
        if kernel is not None:
            kernel.shutdown()
        server.terminate()
        server.wait(timeout=30)
