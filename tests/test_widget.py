"""The run widget's messages (Stop, Run, Edit, Skip, Continue) sent to a real kernel while a run
awaits, as a widget frontend sends them; and what the run does with them."""

from __future__ import annotations

import time

import pytest
from conftest import Reply, code, options

pytestmark = pytest.mark.kernel


class WidgetFrontend:
    """Renders nothing, but answers as the widget's JavaScript does: 'ready' once shown, then what
    ``decide(pending)`` returns for each question, and 'stop' when ``stop_when(data)`` holds."""

    def __init__(self, kernel, decide=None, stop_when=None) -> None:
        self.kc = kernel.kc
        self.decide = decide or (lambda pending: None)
        self.stop_when = stop_when or (lambda state: False)
        self.states: list[dict] = []
        self.stopped = False

    def _send(self, comm_id: str, content: dict) -> None:
        self.kc.shell_channel.send(self.kc.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}}))

    def execute(self, source: str, timeout: float = 60) -> list[dict]:
        kc = self.kc
        msg_id = kc.execute(source)
        widget_comm, iopub = None, []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = kc.get_iopub_msg(timeout=0.5)
            except Exception:
                continue
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = m["msg_type"], m["content"]
            if kind == "comm_open" and content["target_name"] == "jupyter.widget":
                state = content["data"]["state"]
                if "_esm" in state and state.get("mode"):
                    widget_comm = content["comm_id"]
                    self._send(widget_comm, {"type": "ready"})
            elif kind == "comm_msg" and content["comm_id"] == widget_comm:
                state = content["data"].get("state", {})
                self.states.append(state)
                answer = self.decide(state["pending"]) if state.get("pending") else None
                if answer is not None:
                    self._send(widget_comm, answer)
                if not self.stopped and self.stop_when(state):
                    self.stopped = True
                    self._send(widget_comm, {"type": "stop"})
            elif kind == "status" and content["execution_state"] == "idle":
                break
            else:
                iopub.append(m)
        kc.get_shell_msg(timeout=10)
        return iopub


def run_info(kernel) -> dict:
    return kernel.value(
        "(lambda r: {'status': r.status, 'answer': r.answer, 'note': r.note, "
        "'codes': [s.code for s in r.steps]})(codeact_magic.last_run())")


def test_confirm_mode_runs_the_users_edit(kernel, model):
    model.reset(code("edited_value = 1"), "It is set.")
    front = WidgetFrontend(kernel, decide=lambda p: {"type": "run", "code": "edited_value = 100"})
    front.execute(f"%%codeact {options(model)} --mode confirm\nset a value")
    info = run_info(kernel)
    assert info["status"] == "answered" and info["codes"] == ["edited_value = 100\n"]
    assert kernel.value("edited_value") == 100
    # The model sees the edited code as its own previous action.
    assistant = model.requests[1]["messages"][-2]
    assert assistant["role"] == "assistant" and "edited_value = 100" in assistant["content"]
    assert "edited_value = 1\n" not in assistant["content"]
    asked = [s["pending"] for s in front.states if s.get("pending")]
    assert asked and {k: asked[0][k] for k in ("kind", "index", "code")} == {
        "kind": "approve", "index": 1, "code": "edited_value = 1\n"}
    assert '<span style="color: #666">=</span>' in asked[0]["code_html"]  # shown highlighted


def test_confirm_mode_skip_tells_the_model_and_runs_nothing(kernel, model):
    model.reset(code("skipped_value = 1"), code("other_value = 2"), "Done differently.")
    answers = iter([{"type": "skip"}, {"type": "run", "code": "other_value = 2"}])
    front = WidgetFrontend(kernel, decide=lambda p: next(answers))
    front.execute(f"%%codeact {options(model)} --mode confirm\ndo it")
    info = run_info(kernel)
    assert info["status"] == "answered" and info["codes"] == ["other_value = 2\n"]
    assert kernel.value("'skipped_value' in globals()") is False
    assert "declined" in model.requests[1]["messages"][-1]["content"]


def test_step_mode_waits_for_continue_and_stop_ends_it(kernel, model):
    model.reset(code("s1 = 1"), code("s2 = 2"), code("s3 = 3"), "never asked")
    answers = iter([{"type": "continue"}, {"type": "stop"}])
    front = WidgetFrontend(kernel, decide=lambda p: next(answers) if p["kind"] == "continue" else None)
    front.execute(f"%%codeact {options(model)} --mode step\nthree steps")
    info = run_info(kernel)
    assert info["status"] == "stopped" and "Stop button" in info["note"]
    assert info["codes"] == ["s1 = 1\n", "s2 = 2\n"]
    assert kernel.value("'s3' in globals()") is False
    assert len(model.requests) == 2


def test_stop_while_the_model_streams_ends_the_run_at_once(kernel, model):
    model.reset(Reply("Thinking very slowly about it. " * 40, chunk_size=4, chunk_delay=0.05))
    front = WidgetFrontend(kernel, stop_when=lambda s: s.get("status") == "the model is writing")
    started = time.monotonic()
    front.execute(f"%%codeact {options(model)}\nthink")
    assert time.monotonic() - started < 15
    info = run_info(kernel)
    assert info["status"] == "stopped" and "Stop button" in info["note"]


def test_stop_during_an_async_step_ends_it(kernel, model):
    model.reset(code("import asyncio\nawait asyncio.sleep(60)"), "never")
    front = WidgetFrontend(kernel, stop_when=lambda s: any(st.get("status") == "running"
                                                           for st in s.get("steps", [])))
    started = time.monotonic()
    front.execute(f"%%codeact {options(model)}\nwait")
    assert time.monotonic() - started < 15
    assert run_info(kernel)["status"] == "stopped"


def test_the_widget_shows_tokens(kernel, model):
    model.reset(code("print(1)"), "One.")
    front = WidgetFrontend(kernel)
    front.execute(f"%%codeact {options(model)}\none")
    final = {}
    for state in front.states:
        final.update(state)
    assert final["status"] == "answered" and final["running"] is False
    assert final["usage"]["prompt_tokens"] > 0 and final["usage"]["cost"] is None
    assert [s["status"] for s in final["steps"]] == ["done"]
    assert final["steps"][0]["tokens"] > 0  # per step, as well as per run


def test_confirm_mode_without_widgets_refuses_to_start(kernel, model):
    model.reset(code("never_run = 1"))
    reply, msgs = kernel.execute(f"%%codeact {options(model)} --mode confirm\nhi")  # no 'ready' sent
    info = run_info(kernel)
    assert info["status"] == "error" and "needs the run widget" in info["note"]
    assert model.requests == []


def test_a_stop_after_the_run_ended_does_not_cancel_the_rest_of_the_cell(kernel, model):
    model.reset(code("print(1)"), "One.")
    front = WidgetFrontend(kernel, stop_when=lambda s: s.get("running") is False)
    front.execute("import asyncio\n"
                  f"r = await codeact_magic.arun('one', model='openai/scripted', api_base={model.url!r})\n"
                  "await asyncio.sleep(1.5)\n"
                  "after_the_run = True")
    assert front.stopped  # the Stop was sent once the run had ended
    assert kernel.value("after_the_run") is True
    assert run_info(kernel)["status"] == "answered"


def test_the_finished_run_leaves_a_record_in_place_of_the_widget(kernel, model):
    model.reset(code("print(6 * 7)", thought="The product is one multiplication away."),
                "The hall costs $1,250 and the food $900; the product is 42.")
    front = WidgetFrontend(kernel)
    iopub = front.execute(f"%%codeact {options(model)}\nsix times seven")
    shown = [m for m in iopub if m["msg_type"] in ("display_data", "update_display_data")]
    widget_display = next(m for m in shown if "application/vnd.jupyter.widget-view+json" in m["content"]["data"])
    display_id = widget_display["content"]["transient"]["display_id"]
    assert widget_display["content"]["data"]["text/plain"] == ""  # not "<RunWidget object at 0x…>"
    # The widget's display is replaced, in place, by the record a saved notebook keeps...
    [update] = [m for m in shown if m["msg_type"] == "update_display_data"
                and m["content"]["transient"]["display_id"] == display_id]
    data = update["content"]["data"]
    assert "application/vnd.jupyter.widget-view+json" not in data
    assert data["text/plain"].startswith("Answered after 1 step · ")
    assert "✓ step 1 · In [" in data["text/plain"] and "The product is one multiplication away." in data["text/plain"]
    assert 'class="codeact-record"' in data["text/html"] and "print(6 * 7)" in data["text/html"]
    # ...and the widget is closed: nothing is left that only the live kernel could show.
    assert any(m["msg_type"] == "comm_close" for m in iopub)
    # The answer after it, rendered with its amounts as amounts, not as LaTeX.
    [answer] = [m["content"]["data"] for m in shown if m["msg_type"] == "display_data"
                and "text/markdown" in m["content"]["data"]]
    assert answer["text/markdown"] == ("The hall costs <span>&#36;</span>1,250 and the food "
                                       "<span>&#36;</span>900; the product is 42.")
    assert answer["text/plain"] == "The hall costs $1,250 and the food $900; the product is 42."


def test_a_cold_kernel_shows_the_run_starting_before_it_loads_litellm(model):
    import os

    from conftest import Kernel

    fresh = Kernel({k: v for k, v in os.environ.items() if k != "CODEACT_MODEL"})
    try:
        assert fresh.execute("%load_ext codeact_magic\nimport sys\nassert 'litellm' not in sys.modules")[0][
            "status"] == "ok"
        model.reset("Hello.")
        _, msgs = fresh.execute(f"%%codeact {options(model)}\nhi", timeout=120)
        shown = [m for m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
        # The first thing shown says the run is starting (litellm's import takes seconds after it)...
        first = shown[0]["content"]
        assert first["data"]["text/plain"].startswith("⏳ starting")
        # ...and it goes once the run shows itself.
        display_id = first["transient"]["display_id"]
        cleared = [m for m in shown if m["msg_type"] == "update_display_data"
                   and m["content"]["transient"]["display_id"] == display_id]
        assert cleared and cleared[-1]["content"]["data"] == {"text/plain": ""}
        assert "Hello." in str([m["content"] for m in msgs])
    finally:
        fresh.shutdown()


def test_the_widget_streams_whole_words_and_keeps_a_tracebacks_last_line(kernel, model):
    long_failure = "for i in range(60):\n    print('line', i)\nraise KeyError('Sales')"
    model.reset(Reply(code(long_failure, thought="I will look about the columns and their names first."),
                      chunk_size=3), "The column is missing.")
    front = WidgetFrontend(kernel)
    front.execute(f"%%codeact {options(model)}\nlook")
    streamed = [s["text"] for s in front.states if s.get("text")]
    assert streamed, "nothing streamed"
    # Every piece shown ends at a word's end: never "ab" before "about".
    assert all(t[-1].isspace() for t in streamed[:-1]), streamed
    # And it is shown rendered, as Markdown (the widget shows text_html where there is one).
    shown = [s["text_html"] for s in front.states if s.get("text_html")]
    assert shown and all(html.startswith("<p>") and "```" not in html for html in shown), shown
    steps = [s["steps"] for s in front.states if s.get("steps")]
    [step] = steps[-1]
    assert step["output"].rstrip().endswith("KeyError: 'Sales'") and len(step["output"]) < 500
