"""The loop in a real Jupyter kernel (a subprocess driven over ZMQ), as JupyterLab or VS Code runs it."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
from conftest import SECRET, Reply, code, options, texts, wait_for

pytestmark = pytest.mark.kernel


def codeact(kernel, server, request: str, extra: str = "", timeout: float = 60):
    return kernel.execute(f"%%codeact {options(server, extra)}\n{request}", timeout=timeout)


def run_info(kernel) -> dict:
    return kernel.value(
        "(lambda r: {'status': r.status, 'answer': r.answer, 'note': r.note, "
        "'outputs': [s.output for s in r.steps], 'counts': [s.execution_count for s in r.steps], "
        "'errors': [s.error and s.error.ename for s in r.steps], "
        "'timed_out': [s.timed_out for s in r.steps]})(codeact_magic.last_run())"
    )


def interrupt_when(kernel, messages_seen: list, predicate, delay: float = 0.3):
    """Interrupt the kernel (as the ■ button does) once ``predicate(messages)`` holds."""

    def watch():
        if wait_for(lambda: predicate(messages_seen), timeout=30):
            time.sleep(delay)
            kernel.km.interrupt_kernel()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def execute_collecting(kernel, source: str, seen: list, timeout: float = 60):
    reply = kernel.kc.execute_interactive(source, output_hook=seen.append, timeout=timeout)
    return reply["content"]


def printed(messages: list, text: str) -> bool:
    return any(m["msg_type"] == "stream" and text in m["content"]["text"] for m in list(messages))


def test_run_renders_inline_and_leaves_state(kernel, model):
    model.reset(code("import math\nroot = math.sqrt(1764)\nprint(root)"), "The root is **42**.")
    reply, msgs = codeact(kernel, model, "square root of 1764")
    assert reply["status"] == "ok"
    [magic_count] = [m["content"]["execution_count"] for m in msgs if m["msg_type"] == "execute_input"]
    # The user's next cell follows the steps.
    assert kernel.execute("1")[0]["execution_count"] == magic_count + 2
    info = run_info(kernel)
    assert info["status"] == "answered" and info["outputs"] == ["42.0"]
    assert info["counts"] == [magic_count + 1]
    # ipykernel replies with the count the shell reached: the magic cell's last step.
    assert reply["execution_count"] == magic_count + 1
    assert kernel.value("root") == 42.0
    # What the user sees in the cell: the streamed reply as Markdown, the step's output, a status
    # line per step, and the answer.
    markdown = [m["content"]["data"]["text/markdown"] for m in msgs
                if m["msg_type"] in ("display_data", "update_display_data")
                and "text/markdown" in m["content"]["data"]]
    assert markdown[-1] == "The root is **42**."
    assert any("```python\nimport math" in md for md in markdown)
    shown = texts(msgs)
    assert "42.0" in shown and f"step 1/10 · In [{magic_count + 1}]" in shown
    assert "Answered after 1 step" in shown


def test_displays_are_shown_to_the_model(kernel, model):
    model.reset(code("from IPython.display import display, Markdown\ndisplay(Markdown('**hello**'))\n"
                     "{'a': 1}"), "ok")
    codeact(kernel, model, "display")
    feedback = model.requests[1]["messages"][-1]["content"]
    assert "[display]" in feedback and "[result]\n{'a': 1}" in feedback


def test_interrupt_during_a_step_stops_the_run_and_keeps_the_kernel(kernel, model):
    model.reset(code("before_sleep = 1\nimport time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"
                     "after_sleep = 1"), "never asked")
    seen: list = []
    interrupt_when(kernel, seen, lambda msgs: printed(msgs, "sleeping"))
    started = time.monotonic()
    reply = execute_collecting(kernel, f"%%codeact {options(model)}\nsleep", seen)
    assert time.monotonic() - started < 20
    assert reply["status"] == "ok"  # ended cleanly, not with a traceback
    info = run_info(kernel)
    assert info["status"] == "stopped" and "interrupt" in info["note"]
    assert info["errors"] == ["KeyboardInterrupt"]
    assert kernel.value("before_sleep") == 1
    assert kernel.value("'after_sleep' in globals()") is False
    assert len(model.requests) == 1
    assert "Stopped by the kernel's interrupt." in texts(seen)


def test_interrupt_during_an_async_step(kernel, model):
    model.reset(code("import asyncio\nprint('waiting', flush=True)\nawait asyncio.sleep(60)"), "never")
    seen: list = []
    interrupt_when(kernel, seen, lambda msgs: printed(msgs, "waiting"))
    started = time.monotonic()
    reply = execute_collecting(kernel, f"%%codeact {options(model)}\nwait", seen)
    assert time.monotonic() - started < 20 and reply["status"] == "ok"
    assert run_info(kernel)["status"] == "stopped"
    assert kernel.execute("2 + 2")[0]["status"] == "ok"


def test_interrupt_while_the_model_streams(kernel, model):
    model.reset(Reply("I am thinking very slowly about this. " * 40, chunk_size=4, chunk_delay=0.05))
    seen: list = []
    interrupt_when(kernel, seen, lambda msgs: any(
        "I am thinking" in m["content"].get("data", {}).get("text/markdown", "") for m in msgs
        if m["msg_type"] in ("display_data", "update_display_data")))
    started = time.monotonic()
    reply = execute_collecting(kernel, f"%%codeact {options(model)}\nthink", seen)
    assert time.monotonic() - started < 20 and reply["status"] == "ok"
    info = run_info(kernel)
    assert info["status"] == "stopped" and info["outputs"] == []
    # The part of the reply that streamed before the interrupt is counted: it is paid for.
    assert kernel.value("codeact_magic.last_run().usage.completion_tokens") > 0


@pytest.mark.parametrize("body", ["import time\nprint('begin', flush=True)\ntime.sleep(60)",
                                  "import asyncio\nprint('begin', flush=True)\nawait asyncio.sleep(60)",
                                  "print('begin', flush=True)\nwhile True:\n    try:\n        pass\n"
                                  "    except BaseException:\n        pass",
                                  # Code that uses SIGALRM itself: the timer must not depend on it,
                                  # and must never kill the kernel through it.
                                  "import signal, time\nsignal.alarm(0)\nprint('begin', flush=True)\n"
                                  "time.sleep(60)",
                                  "import signal, time\nsignal.signal(signal.SIGALRM, lambda *a: None)\n"
                                  "print('begin', flush=True)\ntime.sleep(60)",
                                  "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_DFL)\n"
                                  "signal.setitimer(signal.ITIMER_REAL, 0)\nprint('begin', flush=True)\n"
                                  "time.sleep(60)"],
                         ids=["sleep", "async-sleep", "swallows-interrupts", "alarm-0", "own-alarm-handler",
                              "alarm-default"])
def test_step_timeout_is_told_to_the_model(kernel, model, body):
    model.reset(code(body), "It took too long, so I stopped.")
    started = time.monotonic()
    reply, msgs = codeact(kernel, model, "slow", "--timeout 1.5")
    assert time.monotonic() - started < 15
    info = run_info(kernel)
    assert info["status"] == "answered" and info["timed_out"] == [True]
    feedback = model.requests[1]["messages"][-1]["content"]
    assert "1.5 s timeout" in feedback and "begin" in feedback
    assert kernel.execute("3 + 3")[0]["status"] == "ok"


def test_input_raises_instead_of_hanging(kernel, model):
    model.reset(code("answer = input('Name? ')"), "I cannot ask for input.")
    started = time.monotonic()
    codeact(kernel, model, "ask me")
    assert time.monotonic() - started < 15
    info = run_info(kernel)
    assert info["errors"] == ["StdinNotAvailable"] and info["status"] == "answered"
    # The user's own cells can still use input() afterwards (allow_stdin is theirs).
    assert kernel.value("__import__('builtins').input.__name__") != "_no_input"


def test_secrets_from_the_environment_are_redacted(kernel, model):
    model.reset(code("import os\nprint('token:', os.environ['MY_SERVICE_TOKEN'])"), "Done.")
    codeact(kernel, model, "show the token")
    assert SECRET not in str(model.requests)
    assert "token: [REDACTED]" in model.requests[1]["messages"][-1]["content"]
    assert run_info(kernel)["outputs"] == ["token: [REDACTED]"]


def test_provider_error_is_shown_as_a_paragraph_and_the_kernel_lives(kernel, model):
    model.reset(Reply(status=401, error_message="Incorrect API key provided"))
    reply, msgs = codeact(kernel, model, "hi")
    assert reply["status"] == "ok"
    shown = texts(msgs)
    assert "rejected the credentials" in shown and "Traceback" not in shown
    assert not any(m["msg_type"] == "error" for m in msgs)
    assert run_info(kernel)["status"] == "error"


def test_bad_options_show_usage_and_run_nothing(kernel, model):
    reply, msgs = kernel.execute(f"%%codeact --steps 3 {options(model)}\nhi")
    assert reply["status"] == "error" and reply["ename"] == "UsageError"
    assert "usage: %%codeact" in reply["evalue"]
    assert model.requests == []


def test_shell_and_subprocess_output_reaches_the_model(kernel, model):
    # ipykernel forwards what child processes write to the process's stdout and stderr (file
    # descriptors 1 and 2) to the frontend from a thread: the user sees it, and so must the model.
    model.reset(code("!echo from-bang\n!ls /nonexistent-codeact-dir\nimport os, subprocess\n"
                     "os.system('echo from-system')\nsubprocess.run(['echo', 'from-subprocess'])\n"
                     "print('done')"), "ok")
    codeact(kernel, model, "shell")
    feedback = model.requests[1]["messages"][-1]["content"]
    for text in ("from-bang", "No such file or directory", "from-system", "from-subprocess", "done"):
        assert text in feedback, (text, feedback)
    # A failed shell command says so, as a user reads it from the text.
    assert "`ls /nonexistent-codeact-dir` exited with status 2" in feedback
    assert "`echo from-bang`" not in feedback


def test_a_long_reply_streams_in_bytes_about_its_size(kernel, model):
    # Each display update carries the whole text so far: unthrottled, a 200 KB reply sent tens of
    # megabytes to the browser. Updates are spaced by the text's length, so the bytes stay near
    # linear in the reply's size.
    words = ("Every figure here comes from the table, column by column, with its unit. " * 2700)[:200_000]
    model.reset(Reply(words, chunk_size=400, chunk_delay=0.01))  # about 5 s, as a fast provider
    content, msgs = codeact(kernel, model, "explain at length", timeout=120)
    assert content["status"] == "ok"
    import json as _json

    sent = sum(len(_json.dumps(m["content"])) for m in msgs
               if m["msg_type"] in ("display_data", "update_display_data", "comm_msg", "stream"))
    assert sent < 6 * len(words), f"{sent:,} bytes for a reply of {len(words):,}"


def test_a_run_inside_a_step_is_refused_and_leaves_the_outer_run_whole(kernel, model):
    from conftest import MODEL

    model.reset(code(f"import codeact_magic, time\ninner = await codeact_magic.arun('inner', model={MODEL!r}, "
                     f"api_base={model.url!r}, display=False)\nprint('inner:', inner.status)\n"
                     "time.sleep(30)"), "Done.")
    started = time.monotonic()
    codeact(kernel, model, "outer", "--timeout 2")
    assert time.monotonic() - started < 15  # the outer step's timeout still holds
    info = run_info(kernel)
    assert info["timed_out"] == [True] and "inner: error" in info["outputs"][0]
    assert kernel.value("codeact_magic.last_run().request") == "outer"
    assert kernel.value("'one at a time' in inner.note") is True
    assert len(model.requests) == 2  # the inner run never asked the model


def test_sys_exit_is_told_as_what_it_is(kernel, model):
    model.reset(code("import sys\nprint('before')\nsys.exit(3)"), "It exited.")
    codeact(kernel, model, "exit")
    feedback = model.requests[1]["messages"][-1]["content"]
    assert "before" in feedback and "SystemExit: 3" in feedback, feedback
    assert "interactiveshell.py" not in feedback and "site-packages" not in feedback, feedback
    assert kernel.execute("1 + 1")[0]["status"] == "ok"


def test_a_thread_an_earlier_step_left_printing_is_not_the_next_steps_output(kernel, model):
    model.reset(code("import threading, time\n"
                     "threading.Thread(target=lambda: (time.sleep(0.5), print('late line', flush=True)),"
                     " daemon=True).start()\nprint('started')"),
                code("import time\ntime.sleep(1.5)\nprint('mine')"), "Done.")
    codeact(kernel, model, "threads")
    info = run_info(kernel)
    assert info["outputs"][0] == "started"
    assert "mine" in info["outputs"][1] and "late line" not in info["outputs"][1], info["outputs"]


def test_a_hub_admin_sets_the_model_endpoint_and_key_variable_in_the_environment(model):
    from conftest import MODEL, Kernel

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env.update(CODEACT_MODEL=MODEL, CODEACT_API_BASE=model.url, CODEACT_API_KEY_ENV="CLASS_MODEL_KEY",
               CLASS_MODEL_KEY="sk-class-key-not-for-students-42")
    k = Kernel(env)
    try:
        content, msgs = k.execute("%load_ext codeact_magic\n%codeact status")
        shown = texts(msgs)
        assert "from $CLASS_MODEL_KEY (set)" in shown and model.url in shown
        assert "sk-class-key" not in shown
        model.reset(code("print(6 * 7)"), "It is 42.")
        content, msgs = k.execute("%%codeact\nsix times seven")  # no option in the notebook
        assert content["status"] == "ok" and "It is 42." in texts(msgs)
        assert model.authorizations == ["Bearer sk-class-key-not-for-students-42"] * 2
        assert "sk-class-key" not in str(model.requests) and "sk-class-key" not in texts(msgs)
    finally:
        k.shutdown()


# ---- figures: images for a model that sees, a line of text for one that does not ----

FIGURE = ("import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
          "import matplotlib.pyplot as plt\nplt.figure(figsize=(30, 2), dpi=100)\n"
          "plt.plot([1, 3, 2])\nplt.show()")


def _png_size(url: str) -> tuple[int, int]:
    import base64
    import struct

    raw = base64.b64decode(url.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def test_a_figure_goes_to_a_vision_model_as_an_image_once_downscaled(kernel, model):
    kernel.execute("%config CodeAct.vision = 'on'")
    try:
        model.reset(code(FIGURE), code("print('next')"), "A line that rises then falls.")
        reply, _ = codeact(kernel, model, "plot it")
        assert reply["status"] == "ok"
        [text, image] = model.requests[1]["messages"][-1]["content"]
        # (The inline backend crops the figure to what is drawn.)
        assert text["type"] == "text" and re.search(r"\[image/png (\d{4})×\d+ shown to the user\]", text["text"])
        assert image["type"] == "image_url" and image["image_url"]["url"].startswith("data:image/png;base64,")
        assert max(_png_size(image["image_url"]["url"])) == 1024  # downscaled, its shape kept
        # Sent with the call after its step only; the conversation keeps the line of text.
        assert all(isinstance(m["content"], str) for m in model.requests[2]["messages"])
        assert kernel.value("codeact_magic.last_run().steps[0].output").count("image/png") == 1
    finally:
        kernel.execute("%config CodeAct.vision = 'auto'")


def test_a_text_only_model_is_told_what_a_figure_is(kernel, model):
    model.reset(code(FIGURE), "Done.")
    codeact(kernel, model, "plot it", "--new")
    told = model.requests[1]["messages"][-1]["content"]
    assert isinstance(told, str) and re.search(r"\[image/png \d+×\d+ shown to the user\]", told)
