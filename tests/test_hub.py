"""A class on JupyterHub: a real hub (its proxy from npm, the dummy authenticator, local processes
as spawner), configured as the README's "For a class" says, with two students running %%codeact
at the same time against one shared endpoint (the scripted server). Driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import Reply
from lab_server import ARTIFACTS, KERNEL_IDLE, _free_port
from playwright.sync_api import expect
from test_lab import browser  # noqa: F401  (the lab tests' Chromium)

pytestmark = pytest.mark.browser
pytest.importorskip("jupyterhub")

ROOT = Path(__file__).resolve().parent.parent
CLASS_KEY = "class-key-7f3a9c1e5b2d4086"  # what the admin sets; students must never see it


def _proxy() -> str | None:
    """configurable-http-proxy: scripts/setup installs it from npm into .venv/hub."""
    local = ROOT / ".venv" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


def _reply(body: dict) -> Reply:
    """Each student's run, told apart by the name in the request: a step, then the answer."""
    messages = body["messages"]
    request = next(m["content"] for m in messages if m["role"] == "user")
    name = re.search(r"I am (\w+)", request).group(1)
    if not any(m["role"] == "assistant" for m in messages):
        return Reply(f"Let me compute it.\n```python\nmine = '{name}-' + str(6 * 7)\nprint(mine)\n```",
                     delay=0.5)
    return Reply(f"Your value is {name}-42.", delay=0.5)


@pytest.fixture(scope="module")
def hub(server, tmp_path_factory):
    proxy = _proxy()
    if proxy is None:
        pytest.skip("configurable-http-proxy is not installed (scripts/setup installs it from npm)")
    root = tmp_path_factory.mktemp("hub")
    homes = root / "homes"
    port = _free_port()
    config = root / "jupyterhub_config.py"
    # The hub admin's three settings (README, "For a class"), and the key in the environment only.
    environment = {"CODEACT_MODEL": "openai/scripted", "CODEACT_API_BASE": server.url,
                   "CODEACT_API_KEY_ENV": "CLASS_MODEL_KEY", "CLASS_MODEL_KEY": CLASS_KEY,
                   "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    config.write_text(f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_port = {_free_port()}
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_free_port()}"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes / "{username}")!r}
c.Spawner.default_url = "/lab"
c.Spawner.cmd = [{sys.executable!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root", "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
                  "--LabApp.news_url=None"]
c.Spawner.environment = {environment!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.db_url = "sqlite:///{root / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(root / 'cookie_secret')!r}
""")
    log = open(root / "hub.log", "wb")
    env = {k: v for k, v in os.environ.items() if k not in ("CODEACT_MODEL", "PYTEST_CURRENT_TEST")}
    process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=root,
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/hub/api", timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    else:
        raise RuntimeError((root / "hub.log").read_text()[-3000:])
    if process.poll() is not None:
        raise RuntimeError((root / "hub.log").read_text()[-3000:])
    yield url, homes
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def _log_in(browser, url: str, name: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", "any")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(re.compile(rf".*/user/{name}/lab.*"), timeout=180_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=120_000)
    return context, page


def _open_notebook(page) -> None:
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        const panel = await app.commands.execute('notebook:create-new', {kernelName: 'python3'});
        await panel.sessionContext.ready;
    }""")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)


def _send(page, request: str) -> None:
    page.keyboard.press("Control+Shift+Y")
    box = page.locator(".jp-codeact-panel textarea")
    box.wait_for(state="visible")
    box.fill(request)
    box.press("Enter")


def test_two_students_run_at_once_on_one_endpoint_and_neither_sees_the_key_or_the_other(
        hub, browser, model):
    url, homes = hub
    model.reset()
    model.default = _reply
    pages = {}
    try:
        for name in ("alice", "bob"):
            pages[name] = _log_in(browser, url, name)
            _open_notebook(pages[name][1])
        # Both at once: neither run waits for the other, nor gets the other's replies.
        for name, (_, page) in pages.items():
            _send(page, f"I am {name}: what is six times seven, with my name before it?")
        for name, (_, page) in pages.items():
            final = page.locator(".jp-codeact-final")
            expect(final).to_contain_text(f"Your value is {name}-42.", timeout=120_000)
            step = page.locator(".jp-Notebook .jp-Cell.jp-codeact-generated").first
            expect(step.locator(".jp-OutputArea")).to_contain_text(f"{name}-42")
            page.screenshot(path=str(ARTIFACTS / f"hub-{name}.png"))
        # Each student's kernel holds their own value only.
        for name, (_, page) in pages.items():
            other = "bob" if name == "alice" else "alice"
            seen = page.evaluate("""async () => {
                const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                let text = '';
                const future = kernel.requestExecute({code: "import os\\n%codeact status\\nprint(mine)\\nprint(os.getcwd())", store_history: false});
                future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
                await future.done;
                return text;
            }""")
            assert f"{name}-42" in seen and f"{other}-42" not in seen
            assert str(homes / name) in seen  # their own home
            # The key's variable is named, its value never shown.
            assert "CLASS_MODEL_KEY" in seen and CLASS_KEY not in seen
            assert CLASS_KEY not in page.content()
        # The endpoint got the key with every request, and the model never read it.
        assert model.authorizations and all(a == f"Bearer {CLASS_KEY}" for a in model.authorizations)
        assert not any(CLASS_KEY in str(m) for body in model.requests for m in body["messages"])
        names = {re.search(r"I am (\w+)", next(m["content"] for m in b["messages"] if m["role"] == "user")).group(1)
                 for b in model.requests}
        assert names == {"alice", "bob"}
    finally:
        for context, _ in pages.values():
            context.close()
