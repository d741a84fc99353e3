"""A real `jupyter lab` started by the tests, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

CHROMIUM = os.environ.get("CODEACT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# In the page: the current notebook's kernel is there and idle.
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    def __init__(self, root: Path, *, env: dict[str, str], app: str = "lab",
                 disabled: tuple[str, ...] = (), args: tuple[str, ...] = ()) -> None:
        self.root, self.port, self.token = root, _free_port(), secrets.token_hex(16)
        self.app = app
        config_dir = root / ".jupyter-config"
        env = {**env, "JUPYTER_CONFIG_DIR": str(config_dir)}
        # No "get notified about Jupyter news?" toast over the page (it would cover the panel).
        page_config = config_dir / "labconfig" / "page_config.json"
        page_config.parent.mkdir(parents=True, exist_ok=True)
        off = {name: True for name in ("@jupyterlab/apputils-extension:announcements", *disabled)}
        page_config.write_text(json.dumps({"disabledExtensions": off}))
        cls = "LabApp" if app == "lab" else "JupyterNotebookApp"
        command = [sys.executable, "-m", "jupyterlab" if app == "lab" else "notebook",
                   "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={root}",
                   "--ServerApp.disable_check_xsrf=True", f"--{cls}.expose_app_in_browser=True"]
        if app == "lab":
            command += ["--LabApp.news_url=None",
                        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        command += list(args)
        self.log = open(root / f"{app}-server.log", "wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.3)
        raise RuntimeError(f"jupyter {app} did not start: {(root / f'{app}-server.log').read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, notebook: str) -> str:
        if self.app == "lab":
            return f"{self.url}/lab/workspaces/w{secrets.token_hex(4)}/tree/{notebook}?reset&token={self.token}"
        return f"{self.url}/notebooks/{notebook}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return json.loads(body) if body else {}

    def stop(self) -> None:
        for kernel in self.api("/api/kernels"):
            try:
                self.api(f"/api/kernels/{kernel['id']}", method="DELETE")
            except OSError:
                pass
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def write_notebook(path: Path, sources: list[str | tuple[str, str]]) -> None:
    """A notebook with a kernelspec (else a kernel dialog blocks the page)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3 (ipykernel)"}})
    for item in sources:
        kind, source = item if isinstance(item, tuple) else ("code", item)
        nb.cells.append(nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                        else nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)
