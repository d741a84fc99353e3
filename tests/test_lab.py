"""The JupyterLab extension in a real `jupyter lab`, driven by Debian's Chromium through Playwright,
with the scripted model server. Screenshots land in test-artifacts/."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import Reply, code
from playwright.sync_api import expect
from lab_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, KERNEL_IDLE, LabServer, write_notebook

pytestmark = pytest.mark.browser

GENERATED = ".jp-Notebook .jp-Cell.jp-codeact-generated"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _settings_dir(root, model_url: str):
    # The panel's settings, as a user sets them in Settings > CodeAct.
    settings = root / "lab-settings" / "codeact-magic"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps(
        {"model": "openai/scripted", "apiBase": model_url, "maxSteps": 5}))
    return root / "lab-settings"


@pytest.fixture(scope="module")
def lab(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(_settings_dir(root, server.url))}
    env.pop("CODEACT_MODEL", None)
    lab = LabServer(root, env=env)
    yield lab
    lab.stop()


@pytest.fixture
def page(browser, lab, request):
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"))
    context.close()


def open_notebook(page, lab: LabServer, name: str, cells: list) -> None:
    write_notebook(lab.root / name, cells)
    page.goto(lab.page_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page)


def wait_idle(page, timeout: float = 60_000) -> None:
    page.wait_for_function(KERNEL_IDLE, timeout=timeout)


def send_from_panel(page, request: str) -> None:
    page.keyboard.press("Control+Shift+Y")  # the panel's shortcut opens it and focuses the input
    box = page.locator(".jp-codeact-panel textarea")
    box.wait_for(state="visible")
    box.fill(request)
    box.press("Enter")


def cell_sources(page) -> list[str]:
    """The sources of the notebook's cells, from its model (all of them, rendered or not)."""
    return page.evaluate("""() => {
        const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        const out = [];
        for (let i = 0; i < cells.length; i++) { out.push(cells.get(i).sharedModel.getSource()); }
        return out;
    }""")


def kernel_print(page, expression: str) -> str:
    """Evaluate in the notebook's kernel, out of band (nothing is added to the notebook)."""
    return page.evaluate("""async (expression) => {
        const app = window.jupyterapp;
        const panel = app.shell.currentWidget;
        const kernel = panel.sessionContext.session.kernel;
        let text = '';
        const future = kernel.requestExecute({code: `print(${expression})`, silent: false, store_history: false});
        future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
        await future.done;
        return text;
    }""", expression)


def test_a_request_from_the_panel_writes_the_transcript(page, lab, model):
    model.reset(code("print('hello from step 1')"), code("6 * 7"), "The answer is **42**.")
    open_notebook(page, lab, "transcript.ipynb", [("markdown", "# My analysis"), "data = [3, 1, 2]"])
    send_from_panel(page, "What is six times seven?")
    answer = page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated .jp-RenderedMarkdown",
                          has_text="The answer is 42.")
    answer.wait_for(timeout=60_000)
    wait_idle(page, 30_000)
    generated = page.locator(GENERATED)
    assert generated.count() == 3
    first, second = generated.nth(0), generated.nth(1)
    expect(first.locator(".jp-OutputArea")).to_contain_text("hello from step 1")
    expect(second.locator(".jp-OutputArea")).to_contain_text("42")
    # Real execution counts on the step cells, in order after the magic cell's.
    prompts = [generated.nth(i).locator(".jp-InputPrompt").inner_text() for i in range(2)]
    counts = [int(p.split("[")[1].split("]")[0]) for p in prompts]
    assert counts[1] == counts[0] + 1
    metadata = page.evaluate("""() => {
        const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        const out = [];
        for (let i = 0; i < cells.length; i++) { out.push(cells.get(i).getMetadata('codeact') || null); }
        return out;
    }""")
    assert [m["step"] for m in metadata if m] == [1, 2, "answer"]
    assert all(m["status"] == "done" and m["usage"]["prompt_tokens"] > 0 for m in metadata if m)
    sources = cell_sources(page)
    assert sources[0] == "# My analysis" and sources[1] == "data = [3, 1, 2]"  # the user's cells, untouched
    assert sources[2].startswith("%%codeact --model openai/scripted --api-base ")
    assert sources[2].endswith("What is six times seven?")
    assert sources[3] == "print('hello from step 1')" and sources[4] == "6 * 7"
    # The magic cell shows a compact summary, not the steps' outputs again.
    magic_output = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-OutputArea")
    expect(magic_output).to_contain_text("Answered after 2 steps")
    assert "hello from step 1" not in magic_output.inner_text()
    # The panel: the request, the steps, the answer.
    panel = page.locator(".jp-codeact-panel")
    expect(panel.locator(".jp-codeact-request").first).to_contain_text("What is six times seven?")
    expect(panel.locator(".jp-codeact-final")).to_contain_text("The answer is 42.")
    expect(panel.locator(".jp-codeact-step")).to_have_count(2)
    # The model's words before each step, rendered: code highlighted with a Copy button, no fences.
    reply = panel.locator(".jp-codeact-reply").first
    expect(reply.locator("pre")).to_contain_text("print('hello from step 1')")
    expect(reply.locator(".jp-codeact-copy")).to_have_count(1)
    assert "```" not in reply.inner_text()
    # Clicking a step in the panel brings its cell into view and makes it active.
    panel.locator(".jp-codeact-step").nth(1).click()
    page.wait_for_selector(".jp-Notebook .jp-Cell.jp-mod-active.jp-codeact-generated")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lab-transcript.png"))
    panel.screenshot(path=str(ARTIFACTS / "lab-panel.png"))
    # From a step's code being ready in the kernel to its cell painted in the page.
    latency = [int(v) for v in page.eval_on_selector_all(
        ".jp-codeact-panel .jp-codeact-step", "nodes => nodes.map(n => n.dataset.latencyMs)")]
    print(f"\nstep code ready -> cell in the page: {latency} ms")
    assert len(latency) == 2 and all(0 <= ms < 2000 for ms in latency)
    kernel_side = json.loads(kernel_print(page, "__import__('json').dumps("
                                                "__import__('codeact_magic').last_run().ui_latency_ms)"))
    assert all(0 <= ms < 2000 for ms in kernel_side)  # those that arrived before the run ended
    (ARTIFACTS / "lab-cell-latency.json").write_text(json.dumps(latency))


def test_stop_mid_step_ends_the_run_and_leaves_a_consistent_notebook(page, lab, model):
    model.reset(code("import time\nprint('sleeping', flush=True)\ntime.sleep(60)\nprint('woke up')"),
                "never asked")
    open_notebook(page, lab, "stop.ipynb", ["x = 1"])
    send_from_panel(page, "Sleep for a minute")
    step = page.locator(GENERATED).first
    step.locator(".jp-OutputArea", has_text="sleeping").wait_for(timeout=60_000)
    started = time.monotonic()
    page.locator(".jp-codeact-panel .jp-codeact-stop").click()
    wait_idle(page, 20_000)
    assert time.monotonic() - started < 15
    magic = page.locator(".jp-Notebook .jp-Cell").nth(1)
    magic.locator(".jp-OutputArea", has_text="Stopped after 1 step").wait_for(timeout=10_000)
    assert page.locator(GENERATED).count() == 1  # no answer cell, nothing half-made
    output = step.locator(".jp-OutputArea").inner_text()
    assert "KeyboardInterrupt" in output and "woke up" not in output.splitlines()
    assert "interrupts.py" not in output  # the harness's own frame is hidden from the user
    assert page.locator(".jp-codeact-panel .jp-codeact-stop").is_disabled()
    assert cell_sources(page)[0] == "x = 1"
    page.screenshot(path=str(ARTIFACTS / "lab-stopped.png"))


def test_a_reload_mid_run_loses_no_user_cell_and_leaves_no_junk(page, lab, model):
    model.reset(code("import time\nprint('working', flush=True)\ntime.sleep(6)"), "Done.")
    user_cells = [("markdown", "Notes"), "a = 1", "b = a + 1"]
    open_notebook(page, lab, "reload.ipynb", user_cells)
    send_from_panel(page, "Work a little")
    page.locator(GENERATED).first.locator(".jp-OutputArea", has_text="working").wait_for(timeout=60_000)
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.isReady")
    assert cell_sources(page) == ["Notes", "a = 1", "b = a + 1"]
    wait_idle(page)  # the run ends in the kernel meanwhile
    time.sleep(1)
    assert page.locator(GENERATED).count() == 0
    assert cell_sources(page) == ["Notes", "a = 1", "b = a + 1"]
    on_disk = json.loads((lab.root / "reload.ipynb").read_text())
    assert ["".join(c["source"]) for c in on_disk["cells"]] == ["Notes", "a = 1", "b = a + 1"]


def test_without_the_extension_the_run_renders_inline(browser, server, model, tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CODEACT_MODEL"}
    # As for a user who disabled it (or a frontend that never had it).
    lab = LabServer(root, env=env, disabled=("codeact-magic",))
    try:
        model.reset(code("print('inline output')"), "Inline **answer**.")
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        open_notebook(page, lab, "inline.ipynb",
                      [f"%load_ext codeact_magic", f"%%codeact --model openai/scripted --api-base {server.url}\nhi"])
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        magic = page.locator(".jp-Notebook .jp-Cell").nth(1)
        magic.locator(".jp-OutputArea", has_text="Answered after 1 step").wait_for(timeout=60_000)
        # The answer is Markdown, which the page renders after the text around it: wait for it.
        magic.locator(".jp-OutputArea", has_text="Inline answer.").wait_for(timeout=10_000)
        output = magic.locator(".jp-OutputArea").inner_text()
        assert "inline output" in output and "Inline answer." in output
        assert page.locator(GENERATED).count() == 0
        assert page.locator(".jp-codeact-panel").count() == 0
        page.screenshot(path=str(ARTIFACTS / "lab-inline.png"))
        context.close()
    finally:
        lab.stop()


def test_notebook_7_gets_the_transcript_too(browser, server, model, tmp_path):
    root = tmp_path / "nb7"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CODEACT_MODEL"}
    notebook = LabServer(root, env=env, app="notebook")
    try:
        model.reset(code("print('in notebook 7')"), "Notebook **7** works.")
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        write_notebook(root / "nb7.ipynb", ["%load_ext codeact_magic",
                                            f"%%codeact --model openai/scripted --api-base {server.url}\nhi"])
        page.goto(notebook.page_url("nb7.ipynb"))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        answer = page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated .jp-RenderedMarkdown",
                              has_text="Notebook 7 works.")
        answer.wait_for(timeout=60_000)  # rendered Markdown: "**7**" shows as bold 7
        step = page.locator(GENERATED).first
        expect(step.locator(".jp-OutputArea")).to_contain_text("in notebook 7")
        page.screenshot(path=str(ARTIFACTS / "notebook7-transcript.png"))
        context.close()
    finally:
        notebook.stop()


def run_prewritten(page, lab: LabServer, name: str, cells: list) -> None:
    """Open a notebook and run its cells with Shift+Enter, as a user does."""
    open_notebook(page, lab, name, cells)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    for _ in cells:
        page.keyboard.press("Shift+Enter")


def test_the_run_widget_approves_an_edited_step(page, lab, model):
    model.reset(code("answer = 6 * 6\nprint(answer)", "Let me **square** six."), "The answer is **42**.")
    run_prewritten(page, lab, "confirm.ipynb", [
        "%load_ext codeact_magic",
        f"%%codeact --model openai/scripted --api-base {model.url} --mode confirm\nsix times seven"])
    widget = page.locator(".codeact-run")
    widget.locator(".codeact-edit-btn").wait_for(timeout=60_000)
    assert "answer = 6 * 6" in widget.locator(".codeact-editor").input_value()
    # The code awaiting approval reads highlighted; the model's words read as Markdown, not fences.
    proposed = widget.locator(".codeact-proposed")
    expect(proposed).to_contain_text("answer = 6 * 6")
    assert proposed.locator("span[style]").count() > 0
    expect(widget.locator(".codeact-text strong")).to_have_text("square")
    assert "```" not in widget.locator(".codeact-text").inner_text()
    assert widget.locator(".codeact-text pre").count() == 0  # the code shows once, to approve
    page.screenshot(path=str(ARTIFACTS / "widget-confirm.png"))
    widget.locator(".codeact-edit-btn").click()
    expect(proposed).to_be_hidden()
    widget.locator(".codeact-editor").fill("answer = 6 * 7\nprint(answer)")
    widget.locator(".codeact-run-btn").click()
    answer = page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated .jp-RenderedMarkdown",
                          has_text="The answer is 42.")
    answer.wait_for(timeout=60_000)
    step = page.locator(GENERATED).first
    expect(step.locator(".jp-OutputArea")).to_contain_text("42")
    assert cell_sources(page)[2] == "answer = 6 * 7\nprint(answer)"  # the edit is the transcript
    # The run over, the widget has become the run's record.
    page.locator(".codeact-record-summary", has_text="Answered after 1 step").wait_for(timeout=10_000)
    assert "answer = 6 * 7" in model.requests[1]["messages"][-2]["content"]
    page.screenshot(path=str(ARTIFACTS / "widget-confirm-done.png"))


def test_the_run_widget_stops_a_run_mid_stream(page, lab, model):
    model.reset(Reply("Let me think about this at length. " * 60, chunk_size=4, chunk_delay=0.05))
    run_prewritten(page, lab, "widget-stop.ipynb", [
        "%load_ext codeact_magic",
        f"%%codeact --model openai/scripted --api-base {model.url}\nthink"])
    widget = page.locator(".codeact-run")
    widget.locator(".codeact-status", has_text="the model is writing").wait_for(timeout=60_000)
    started = time.monotonic()
    widget.locator(".codeact-stop").click()
    page.locator(".codeact-record-summary", has_text="Stopped after 0 steps").wait_for(timeout=15_000)
    assert time.monotonic() - started < 10
    expect(page.locator(".codeact-record-note")).to_contain_text("Stop button")
    assert widget.count() == 0  # the widget is gone: the record is what stays
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "widget-stopped.png"))


def test_cells_added_elsewhere_during_a_run_keep_the_transcript_in_place(page, lab, model):
    model.reset(code("import time\nprint('first', flush=True)\ntime.sleep(3)"), code("print('second')"),
                "Both done.")
    open_notebook(page, lab, "edits.ipynb", ["top = 1", "bottom = 2"])
    send_from_panel(page, "Two steps please")
    page.locator(GENERATED).first.locator(".jp-OutputArea", has_text="first").wait_for(timeout=60_000)
    # Meanwhile the user adds a cell at the top and one at the very end, and edits another.
    page.evaluate("""() => {
        const model = window.jupyterapp.shell.currentWidget.content.model;
        model.sharedModel.insertCell(0, {cell_type: 'code', source: 'added_at_top = True'});
        model.sharedModel.insertCell(model.cells.length, {cell_type: 'code', source: 'added_at_end = True'});
        model.cells.get(1).sharedModel.setSource('top = 100');
    }""")
    page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated").wait_for(timeout=60_000)
    wait_idle(page)
    sources = cell_sources(page)
    magic = next(i for i, s in enumerate(sources) if s.startswith("%%codeact"))
    assert sources[:3] == ["added_at_top = True", "top = 100", "bottom = 2"]
    # The run's cells follow its magic cell, in order; the user's own cells are as they left them.
    assert sources[magic + 1:magic + 4] == ["import time\nprint('first', flush=True)\ntime.sleep(3)",
                                            "print('second')", "Both done."]
    assert "added_at_end = True" in sources


def test_a_widget_in_a_step_renders_in_its_cell(page, lab, model):
    model.reset(code("import ipywidgets\nslider = ipywidgets.IntSlider(value=7, description='level')\n"
                     "display(slider)"), "Here is a slider.")
    open_notebook(page, lab, "widget-step.ipynb", ["x = 1"])
    send_from_panel(page, "Show me a slider")
    step = page.locator(GENERATED).first
    step.locator(".jp-OutputArea .widget-slider").wait_for(timeout=60_000)
    expect(step.locator(".jp-OutputArea")).to_contain_text("level")
    trusted = page.evaluate("""() => {
        const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        for (let i = 0; i < cells.length; i++) {
            if (cells.get(i).getMetadata('codeact')) { return cells.get(i).trusted; }
        }
    }""")
    assert trusted is True
    page.screenshot(path=str(ARTIFACTS / "lab-widget-in-step.png"))


def test_display_updates_reach_the_step_cell_that_shows_them(page, lab, model):
    model.reset(code("handle = display('first version', display_id=True)"),
                code("handle.update('second version')\nprint('updated')"), "Updated.")
    open_notebook(page, lab, "display-update.ipynb", ["x = 1"])
    send_from_panel(page, "Show, then update")
    page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated").wait_for(timeout=60_000)
    first = page.locator(GENERATED).first.locator(".jp-OutputArea")
    expect(first).to_contain_text("second version")  # updated in place, by the next step
    assert "first version" not in first.inner_text()


def test_a_codeact_cell_run_again_writes_after_its_earlier_transcript(page, lab, model):
    model.reset(code("print('run one')"), "First run.", code("print('run two')"), "Second run.")
    open_notebook(page, lab, "rerun.ipynb", [
        "%load_ext codeact_magic", f"%%codeact --model openai/scripted --api-base {model.url}\ngo",
        "after = 1"])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    page.locator(".jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown", has_text="First run.").wait_for(timeout=60_000)
    wait_idle(page)
    page.locator(".jp-Notebook .jp-Cell").nth(1).click()  # the magic cell, again
    page.keyboard.press("Control+Enter")
    page.locator(".jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown", has_text="Second run.").wait_for(timeout=60_000)
    wait_idle(page)
    sources = cell_sources(page)
    assert sources[2:] == ["print('run one')", "First run.", "print('run two')", "Second run.", "after = 1"]


def test_two_pages_on_one_notebook_write_one_transcript(browser, page, lab, model):
    model.reset(code("print('once')"), "Written once.")
    open_notebook(page, lab, "two-pages.ipynb", ["x = 1"])
    other_context = browser.new_context(viewport={"width": 1300, "height": 900})
    other = other_context.new_page()
    try:
        other.goto(lab.page_url("two-pages.ipynb"))  # a second tab, on the same kernel
        other.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(other)
        send_from_panel(page, "Print once")
        page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated").wait_for(timeout=60_000)
        wait_idle(page)
        time.sleep(2)  # whatever the other page would do with the run's messages, it has done now
        assert page.locator(GENERATED).count() == 2
        assert other.locator(GENERATED).count() == 0
    finally:
        other_context.close()


def test_a_saved_run_reads_the_same_reopened_and_converted(page, lab, model, tmp_path):
    import subprocess
    import sys

    answer = ("The hall costs $1,250 and the food $900.\n\n| item | cost |\n| --- | --- |\n"
              "| hall | $1,250 |\n| food | $900 |")
    model.reset(code("print(1250 + 900)", thought="Adding the two amounts."), answer)
    run_prewritten(page, lab, "saved.ipynb", [
        "%load_ext codeact_magic",
        f"%%codeact --model openai/scripted --api-base {model.url}\nwhat do the hall and food cost?"])
    record = page.locator(".codeact-record")
    record.locator(".codeact-record-summary", has_text="Answered after 1 step").wait_for(timeout=60_000)
    expect(record).to_contain_text("Adding the two amounts.")
    answer_cell = page.locator(".jp-Notebook .jp-MarkdownCell.jp-codeact-generated .jp-RenderedMarkdown")
    # The amounts are text, not LaTeX between two dollar signs; the table is a table.
    expect(answer_cell).to_contain_text("The hall costs $1,250 and the food $900.")
    assert answer_cell.locator("mjx-container, .MathJax").count() == 0
    assert answer_cell.locator("table td", has_text="$900").count() == 1
    page.screenshot(path=str(ARTIFACTS / "record-live.png"))
    page.keyboard.press("Control+s")
    path = lab.root / "saved.ipynb"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "codeact-record" not in path.read_text():
        time.sleep(0.5)
    saved = json.loads(path.read_text())
    magic = next(c for c in saved["cells"] if "".join(c["source"]).startswith("%%codeact"))
    shown = [o["data"] for o in magic["outputs"] if o["output_type"] == "display_data"]
    assert not any("application/vnd.jupyter.widget-view+json" in data for data in shown)
    assert any("codeact-record" in "".join(data.get("text/html", "")) for data in shown)

    # Reopened in a fresh page (the kernel's widgets unknown to it): the record, not "model not found".
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.locator(".codeact-record-summary", has_text="Answered after 1 step").wait_for(timeout=30_000)
    expect(page.locator(".jp-Notebook")).not_to_contain_text("Error displaying widget")
    page.screenshot(path=str(ARTIFACTS / "record-reopened.png"))

    # nbconvert (and so nbviewer and GitHub, which render the same outputs) show it too.
    out = tmp_path / "saved.html"
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path),
                           "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    converted = out.read_text()
    assert "codeact-record" in converted and "Answered after 1 step" in converted
    assert "Adding the two amounts." in converted


def test_undo_removes_the_runs_cells_and_only_them(page, lab, model):
    model.reset(code("total = 2 + 2\nprint(total)"), "It is 4.")
    open_notebook(page, lab, "undo.ipynb", ["%load_ext codeact_magic", "x = 1"])
    send_from_panel(page, "add two and two")
    page.locator(".jp-codeact-final").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator(GENERATED).count() == 2  # the step and the answer
    expect(page.locator(".jp-codeact-final")).to_contain_text("Variables: new total")
    # From the panel: one click removes the run's cells; the user's, and the request's, stay.
    page.locator(".jp-codeact-undo").click()
    expect(page.locator(GENERATED)).to_have_count(0)
    assert cell_sources(page)[:2] == ["%load_ext codeact_magic", "x = 1"]
    assert cell_sources(page)[2].endswith("add two and two")
    expect(page.locator(".jp-codeact-log")).to_contain_text("Undone: removed the 2 cells the run inserted.")

    # From the kernel: `%codeact undo` in a cell of its own does the same, and lists the variables.
    model.reset(code("doubled = 21 * 2\nprint(doubled)"), "It is 42.")
    send_from_panel(page, "double x")
    page.locator(".jp-codeact-final").nth(1).wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator(GENERATED).count() == 2
    page.evaluate("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const model = panel.content.model;
        model.sharedModel.insertCell(model.cells.length, {cell_type: 'code', source: '%codeact undo'});
        panel.content.activeCellIndex = model.cells.length - 1;
        return window.jupyterapp.commands.execute('notebook:run-cell');
    }""")
    undo_cell = page.locator(".jp-Notebook .jp-CodeCell").last
    expect(undo_cell.locator(".jp-OutputArea")).to_contain_text(
        "Removed the 2 cells the last run inserted", timeout=30_000)
    expect(undo_cell.locator(".jp-OutputArea")).to_contain_text("created: doubled")
    expect(page.locator(GENERATED)).to_have_count(0)
    sources = cell_sources(page)
    assert sources[:2] == ["%load_ext codeact_magic", "x = 1"] and sources[-1] == "%codeact undo"
    assert sum("%%codeact" in s for s in sources) == 2  # both requests stay
    page.screenshot(path=str(ARTIFACTS / "undo.png"))


def test_the_panel_goes_on_with_the_conversation_shows_it_after_a_reload_and_starts_a_new_one(
        page, lab, model):
    model.reset(code("squares = [n * n for n in range(4)]\nprint(squares)"), "They are 0, 1, 4 and 9.")
    open_notebook(page, lab, "chat.ipynb", ["%load_ext codeact_magic"])
    send_from_panel(page, "the first four squares")
    page.locator(".jp-codeact-final").wait_for(timeout=60_000)
    wait_idle(page)
    model.reset("Their sum is 14.")
    send_from_panel(page, "and their sum?")
    expect(page.locator(".jp-codeact-final")).to_have_count(2, timeout=60_000)
    wait_idle(page)
    # The second request went on from the first (the kernel's conversation).
    said = [m["content"] for m in model.requests[0]["messages"]]
    assert said[1].startswith("the first four squares") and said[-1].startswith("and their sum?")
    page.locator(".jp-Notebook").click()
    page.keyboard.press("Control+s")
    time.sleep(1)

    # A reload: the panel reads the conversation back from the cells.
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page)
    page.keyboard.press("Control+Shift+Y")
    panel = page.locator(".jp-codeact-panel")
    expect(panel.locator(".jp-codeact-request")).to_have_count(2, timeout=30_000)
    expect(panel.locator(".jp-codeact-request").nth(1)).to_contain_text("and their sum?")
    expect(panel.locator(".jp-codeact-final").nth(0)).to_contain_text("They are 0, 1, 4 and 9.")
    expect(panel.locator(".jp-codeact-final").nth(1)).to_contain_text("Their sum is 14.")
    expect(panel.locator(".jp-codeact-step")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "panel-after-reload.png"))

    # New chat: the panel starts empty and the next request starts a new conversation.
    panel.locator(".jp-codeact-new").click()
    expect(panel.locator(".jp-codeact-request")).to_have_count(0)
    expect(panel.locator(".jp-codeact-log")).to_contain_text("New conversation")
    model.reset("Hello.")
    send_from_panel(page, "hello")
    expect(panel.locator(".jp-codeact-final")).to_have_count(1, timeout=60_000)
    assert [m["role"] for m in model.requests[0]["messages"]] == ["system", "user"]
    assert cell_sources(page)[-2].startswith("%%codeact --new ") or any(
        s.startswith("%%codeact --new") for s in cell_sources(page))


def test_the_panel_approves_an_edited_step_and_continues_in_step_mode(page, lab, model):
    model.reset(code("total = 6 * 6\nprint(total)"), code("print(total + 1)"), "It is 43.")
    open_notebook(page, lab, "panel-confirm.ipynb", ["%load_ext codeact_magic"])
    kernel_print(page, "__import__('IPython').get_ipython().run_line_magic('load_ext', 'codeact_magic') "
                       "or __import__('IPython').get_ipython().run_line_magic('config', \"CodeAct.mode = 'confirm'\")")
    send_from_panel(page, "six times seven, plus one")
    panel = page.locator(".jp-codeact-panel")
    ask = panel.locator(".jp-codeact-ask")
    ask.wait_for(timeout=60_000)
    expect(ask).to_contain_text("Step 1 wants to run:")
    expect(ask.locator(".jp-RenderedMarkdown")).to_contain_text("total = 6 * 6")  # highlighted code
    ask.locator(".jp-codeact-ask-edit").click()
    ask.locator(".jp-codeact-ask-editor").fill("total = 6 * 7\nprint(total)")
    page.screenshot(path=str(ARTIFACTS / "panel-confirm.png"))
    ask.locator(".jp-codeact-ask-run").click()
    # The edit ran, in its cell; the widget's question went away with the panel's answer.
    expect(page.locator(GENERATED).first.locator(".jp-OutputArea")).to_contain_text("42", timeout=30_000)
    expect(panel.locator(".jp-codeact-step").first).to_contain_text("total = 6 * 7")
    # Step 2: skipped from the panel; the model is told, and answers.
    panel.locator(".jp-codeact-ask-skip").click(timeout=30_000)
    expect(panel.locator(".jp-codeact-final")).to_contain_text("It is 43.", timeout=60_000)
    expect(panel.locator(".jp-codeact-ask")).to_have_count(0)
    assert "declined" in model.requests[2]["messages"][-1]["content"]
    assert page.locator(".codeact-run .codeact-editor").count() == 0  # no question left in the widget

    # Step mode: Continue from the panel.
    kernel_print(page, "__import__('IPython').get_ipython().run_line_magic('config', \"CodeAct.mode = 'step'\")")
    model.reset(code("print('first')"), code("print('second')"), "Both ran.")
    send_from_panel(page, "print two things")
    panel.locator(".jp-codeact-ask-continue").click(timeout=60_000)
    expect(panel.locator(".jp-codeact-ask-continue")).to_have_count(1, timeout=30_000)  # after step 2
    panel.locator(".jp-codeact-ask-continue").click()
    expect(panel.locator(".jp-codeact-final").last).to_contain_text("Both ran.", timeout=60_000)


def test_the_panel_picks_the_model_among_those_the_settings_list(page, lab, model):
    settings = {"model": "openai/scripted", "apiBase": model.url, "maxSteps": 5,
                "models": ["openai/scripted", "openai/scripted-other"]}
    open_notebook(page, lab, "picker.ipynb", ["%load_ext codeact_magic"])
    save = """async raw => { await window.jupyterapp.serviceManager.settings.save('codeact-magic:plugin', raw); }"""
    page.evaluate(save, json.dumps(settings))
    try:
        page.reload()
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        page.keyboard.press("Control+Shift+Y")
        picker = page.locator(".jp-codeact-model")
        expect(picker).to_be_visible()
        assert picker.locator("option").all_inner_texts() == ["openai/scripted", "openai/scripted-other"]
        picker.select_option("openai/scripted-other")
        expect(page.locator(".jp-codeact-target")).to_contain_text("model: openai/scripted-other")
        model.reset("Hello from the other one.")
        send_from_panel(page, "hello")
        expect(page.locator(".jp-codeact-final")).to_contain_text("Hello from the other one.", timeout=60_000)
        assert cell_sources(page)[1].startswith("%%codeact --model openai/scripted-other ")
        assert model.requests[0]["model"] == "scripted-other"
    finally:
        page.evaluate(save, json.dumps({k: settings[k] for k in ("model", "apiBase", "maxSteps")}))
