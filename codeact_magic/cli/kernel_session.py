"""A kernel driven from a script, as a notebook frontend drives it: execute requests that carry
the cell's id (so a run can link to its cell) and the comm messages of docs/protocol.md."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager


class KernelDied(RuntimeError):
    """The kernel's process ended while a cell ran."""


OnMessage = Callable[[dict[str, Any]], None]


class KernelSession:
    def __init__(self, kernel_name: str, cwd: Path, startup_timeout: float = 60) -> None:
        self.km = KernelManager(kernel_name=kernel_name)
        self.km.start_kernel(cwd=str(cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=startup_timeout)
        except RuntimeError:
            self.close()
            raise

    def execute(self, source: str, *, cell_id: str | None = None, silent: bool = False,
                on_message: OnMessage | None = None) -> dict[str, Any]:
        """Run ``source``; every iopub message of it goes to ``on_message``. Returns the execute
        reply's content. Raises KernelDied if the kernel's process ends first."""
        kc = self.kc
        msg = kc.session.msg("execute_request", {"code": source, "silent": silent,
                                                 "store_history": not silent, "user_expressions": {},
                                                 "allow_stdin": False, "stop_on_error": True},
                             metadata={"cellId": cell_id} if cell_id else {})
        kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        while True:
            try:
                message = kc.get_iopub_msg(timeout=1)
            except Exception:  # queue.Empty: nothing within a second
                if not self.km.is_alive():
                    raise KernelDied("the kernel died while the cell ran") from None
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
            if on_message is not None:
                on_message(message)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                reply = kc.get_shell_msg(timeout=1)
            except Exception:
                if not self.km.is_alive():
                    raise KernelDied("the kernel died while the cell ran") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]
        raise KernelDied("the kernel did not answer the cell's execute request")

    def comm_send(self, comm_id: str, data: dict[str, Any]) -> None:
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def close(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            if self.km.is_alive():
                self.km.shutdown_kernel(now=True)
