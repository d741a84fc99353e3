"""The kernel side of docs/protocol.md, with a real kernel and a test client playing the frontend."""

from __future__ import annotations

import time
import uuid

import pytest
from conftest import Reply, code, options

pytestmark = pytest.mark.kernel


class Frontend:
    """Sends an execute request as JupyterLab does (with a cellId) and plays the extension's part."""

    def __init__(self, kernel) -> None:
        self.kc = kernel.kc

    def execute(self, source: str, *, ack: bool | str = True, timeout: float = 60,
                frontends: tuple[str, ...] = ()):
        """Run ``source`` in a cell with an id; ``ack``: True answers hello, "close" closes the comm,
        False stays silent; ``frontends``: answer hello once for each of these pages instead, as
        several pages with the notebook open do. Returns (hello, iopub messages of the cell, comm
        messages, reply content)."""
        kc = self.kc
        cell_id = uuid.uuid4().hex
        msg = kc.session.msg("execute_request", {"code": source, "silent": False, "store_history": True,
                                                 "user_expressions": {}, "allow_stdin": False,
                                                 "stop_on_error": True},
                             metadata={"cellId": cell_id})
        kc.shell_channel.send(msg)
        iopub, comm_msgs, hello = [], [], None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = kc.get_iopub_msg(timeout=1)
            except Exception:
                continue
            if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                continue
            kind = m["msg_type"]
            if kind == "comm_open" and m["content"]["target_name"] == "codeact_magic":
                hello = m["content"]
                if frontends:
                    for page in frontends:
                        self._comm_msg(hello["comm_id"], {"type": "hello_ack", "version": 1,
                                                          "frontend": page})
                elif ack is True:
                    self._comm_msg(hello["comm_id"], {"type": "hello_ack", "version": 1})
                elif ack == "close":
                    kc.shell_channel.send(kc.session.msg("comm_close", {"comm_id": hello["comm_id"],
                                                                        "data": {}}))
            elif kind == "comm_msg":
                data = m["content"]["data"]
                comm_msgs.append(data)
                if data["type"] == "step_started":
                    self._comm_msg(hello["comm_id"], {"type": "cell_shown", "index": data["index"],
                                                      "at": time.time() * 1000})
            elif kind == "status" and m["content"]["execution_state"] == "idle":
                break
            else:
                iopub.append(m)
        reply = kc.get_shell_msg(timeout=10)["content"]
        return hello, iopub, comm_msgs, reply

    def _comm_msg(self, comm_id: str, data: dict) -> None:
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))


def test_with_the_extension_steps_go_over_the_comm(kernel, model):
    model.reset(code("print('from the step')\n6 * 7"), code("1 / 0"), "The answer is **42**.")
    hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\nsix times seven")
    assert reply["status"] == "ok"
    assert hello["data"]["type"] == "hello" and hello["data"]["version"] == 1
    assert hello["data"]["model"] == "openai/scripted" and hello["data"]["request"] == "six times seven"
    kinds = [m["type"] for m in msgs]
    assert kinds[:2] == ["chosen", "token"] and kinds[-1] == "final"
    assert msgs[0] == {"type": "chosen", "frontend": None}  # a frontend that gives no id holds it
    assert [m["index"] for m in msgs if m["type"] == "step_started"] == [1, 2]
    first_outputs = [m["output"] for m in msgs if m["type"] == "output" and m["index"] == 1]
    stdout = "".join(o["text"] for o in first_outputs if o["output_type"] == "stream" and o["name"] == "stdout")
    assert stdout == "from the step\n"
    [result] = [o for o in first_outputs if o["output_type"] == "execute_result"]
    assert result["data"]["text/plain"] == "42" and result["execution_count"] is not None
    [error] = [m["output"] for m in msgs if m["type"] == "output" and m["index"] == 2]
    assert error["output_type"] == "error" and error["ename"] == "ZeroDivisionError" and error["traceback"]
    done = [m for m in msgs if m["type"] == "step_done"]
    assert [d["status"] for d in done] == ["ok", "error"]
    assert done[1]["error"] == {"ename": "ZeroDivisionError", "evalue": "division by zero"}
    assert done[1]["execution_count"] == done[0]["execution_count"] + 1
    assert all(d["usage"]["prompt_tokens"] > 0 for d in done)
    final = msgs[-1]
    assert final["status"] == "answered" and final["answer"] == "The answer is **42**."
    assert "Answered after 2 steps" in final["summary"]
    # The magic cell itself shows no step output and no answer: just a status line and the summary.
    shown = [m for m in iopub if m["msg_type"] in ("stream", "error", "execute_result")]
    assert shown == []
    plain = [m["content"]["data"].get("text/plain", "") for m in iopub
             if m["msg_type"] in ("display_data", "update_display_data")]
    assert any("Answered after 2 steps" in p for p in plain)
    assert not any("The answer is" in p for p in plain)
    # The model still saw everything.
    assert "from the step" in model.requests[1]["messages"][-1]["content"]
    latency = kernel.value("codeact_magic.last_run().ui_latency_ms")
    assert len(latency) == 2 and all(0 <= ms < 5000 for ms in latency)


def test_a_frontend_without_the_target_gets_inline_output_at_once(kernel, model):
    model.reset(code("print('inline please')"), "Done.")
    started = time.monotonic()
    hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\nhi", ack="close")
    assert time.monotonic() - started < 10
    assert hello is not None and msgs == []
    assert any(m["msg_type"] == "stream" and "inline please" in m["content"]["text"] for m in iopub)


def test_no_answer_to_hello_falls_back_to_inline_after_a_second(kernel, model):
    model.reset(code("print('still inline')"), "Done.")
    hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\nhi", ack=False)
    assert hello is not None and msgs == []
    assert any(m["msg_type"] == "stream" and "still inline" in m["content"]["text"] for m in iopub)
    assert kernel.value("codeact_magic.last_run().status") == "answered"


def test_a_flood_of_output_is_capped_for_the_cell(kernel, model):
    model.reset(code("for i in range(300_000):\n    print('line', i)"), "Printed.")
    hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\nflood", timeout=120)
    streamed = "".join(m["output"].get("text", "") for m in msgs if m["type"] == "output")
    assert 900_000 < len(streamed) < 1_100_000
    assert "more characters of output not shown" in streamed
    # Batched, not one message per print.
    assert sum(1 for m in msgs if m["type"] == "output") < 2000


def test_of_several_pages_the_first_to_answer_holds_the_run(kernel, model):
    model.reset(code("print(1)"), "One.")
    hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\none",
                                                         frontends=("page-a", "page-b"))
    # Every page hears every message; this one says which page writes the transcript.
    assert msgs[0] == {"type": "chosen", "frontend": "page-a"}
    assert [m["type"] for m in msgs].count("chosen") == 1
    assert [m["index"] for m in msgs if m["type"] == "step_started"] == [1]


def test_display_updates_go_where_their_display_is(kernel, model):
    # A display in a cell of the user's, before the run; then a step shows one and updates both.
    kernel.execute("from IPython.display import display, update_display\n"
                   "display('user v1', display_id='in-user-cell')")
    model.reset(code("display('step v1', display_id='in-step-cell')\n"
                     "update_display('step v2', display_id='in-step-cell')\n"
                     "update_display('user v2', display_id='in-user-cell')"), "Updated.")
    hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\nupdate")
    outputs = [m["output"] for m in msgs if m["type"] == "output"]
    assert [(o["output_type"], o["data"]["text/plain"]) for o in outputs] == [
        ("display_data", "'step v1'"), ("update_display_data", "'step v2'")]
    assert outputs[1]["transient"] == {"display_id": "in-step-cell"}
    # The update of the user's display stays on iopub, where the frontend finds its cell itself.
    updates = [m["content"] for m in iopub if m["msg_type"] == "update_display_data"
               and m["content"]["transient"].get("display_id") == "in-user-cell"]
    assert [u["data"]["text/plain"] for u in updates] == ["'user v2'"]


def test_the_loops_own_messages_reach_the_panel(kernel, model):
    kernel.execute("%config CodeAct.tactics = 'none,+nudge'")
    try:
        model.reset("It is 3.", code("print(21)"), "It is 21.")
        hello, iopub, msgs, reply = Frontend(kernel).execute(f"%%codeact {options(model)}\ngcd")
    finally:
        kernel.execute("%config CodeAct.tactics = 'none'")
    [followup] = [m for m in msgs if m["type"] == "followup"]
    assert followup["kind"] == "nudge" and "compute" in followup["label"]
    assert msgs[-1]["answer"] == "It is 21."


def test_step_outputs_keep_their_order_when_sends_are_slow():
    import threading

    from codeact_magic.frontends.routing import OutputRouter

    sent: list[str] = []
    first = threading.Event()

    def send(output: dict) -> None:
        if not first.is_set():
            first.set()
            time.sleep(0.3)  # the first batch is slow to go out...
        sent.append(output["text"])

    router = OutputRouter(send)
    router.stream("stdout", "a")
    worker = threading.Thread(target=router.flush)  # ...sent by a timer thread, say
    worker.start()
    first.wait()
    router.stream("stdout", "b")  # meanwhile the step writes on and flushes
    router.flush()
    worker.join()
    assert "".join(sent) == "ab"
