"""Sending a step's outputs somewhere else than the magic cell's output (the step's own notebook
cell, through the JupyterLab extension), as nbformat outputs, live.

Used only in a Jupyter kernel (ipykernel), where the display publisher and the display hook take
hooks: a hook that returns None keeps the message off iopub.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Output = dict[str, Any]

# Past this much stream text per step, the cell gets a note instead of the rest (the model's own
# view is capped separately): a flood must not take the browser down.
_STREAM_LIMIT = 1_000_000
_FLUSH_EVERY = 0.05  # seconds: streams are sent in batches, at most this late


class OutputRouter:
    """One step's outputs, sent in the order they were made.

    ``display_ids`` is shared by the run's routers: the display ids created in its step cells. An
    update to one of those goes to the step cells; an update to any other display (one in a cell of
    the user's) stays on iopub, where the frontend itself finds it.
    """

    def __init__(self, send: Callable[[Output], None], display_ids: set[str] | None = None) -> None:
        self._send = send
        # One lock for taking pending text and sending it: a timer's flush and the step's own
        # flush never overtake each other, so chunks arrive in the order they were written.
        self._lock = threading.RLock()
        self.display_ids = display_ids if display_ids is not None else set()
        self._pending: list[tuple[str, str]] = []
        self._sent_chars = 0
        self._dropped = 0
        self._timer: threading.Timer | None = None
        self._last_flush = 0.0

    # ---- streams (called by the stream tee, possibly from other threads) ----

    def stream(self, name: str, text: str) -> None:
        with self._lock:
            room = _STREAM_LIMIT - self._sent_chars
            if room <= 0:
                self._dropped += len(text)
                return
            if len(text) > room:
                self._dropped += len(text) - room
                text = text[:room]
            self._sent_chars += len(text)
            self._pending.append((name, text))
            due = time.monotonic() - self._last_flush >= _FLUSH_EVERY
            if not due and self._timer is None:
                # Flush from a timer thread: a synchronous step blocks the event loop, and its
                # prints should still show while it runs. Sending on iopub is thread-safe.
                self._timer = threading.Timer(_FLUSH_EVERY, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._last_flush = time.monotonic()
            merged: list[list[str]] = []
            for name, text in pending:
                if merged and merged[-1][0] == name:
                    merged[-1][1] += text
                else:
                    merged.append([name, text])
            for name, text in merged:
                self._send({"output_type": "stream", "name": name, "text": text})

    def finish(self) -> None:
        with self._lock:
            self.flush()
            if self._dropped:
                self._send({"output_type": "stream", "name": "stderr",
                            "text": f"\n[{self._dropped:,} more characters of output not shown]\n"})

    # ---- everything else ----

    def emit(self, output: Output) -> None:
        with self._lock:
            self.flush()  # keep the order: streams written before a display come before it
            self._send(output)

    @contextmanager
    def capture(self, shell: Any) -> Iterator[None]:
        """Divert displays, results and tracebacks of the step to this router."""

        def display_hook(msg: dict) -> None:
            kind, content = msg.get("msg_type"), msg.get("content", {})
            display_id = (content.get("transient") or {}).get("display_id")
            if kind == "update_display_data" and display_id not in self.display_ids:
                return msg  # type: ignore[return-value]  (a display outside the step cells)
            if kind in ("display_data", "update_display_data"):
                if kind == "display_data" and display_id:
                    self.display_ids.add(display_id)
                self.emit({"output_type": kind, "data": content.get("data", {}),
                           "metadata": content.get("metadata", {}),
                           "transient": content.get("transient", {})})
            elif kind == "clear_output":
                self.emit({"output_type": "clear_output", "wait": content.get("wait", False)})
            else:
                return msg  # type: ignore[return-value]
            return None

        def result_hook(msg: dict) -> None:
            content = msg.get("content", {})
            self.emit({"output_type": "execute_result", "data": content.get("data", {}),
                       "metadata": content.get("metadata", {}),
                       "execution_count": content.get("execution_count")})
            return None

        def show_traceback(etype: Any, evalue: Any, stb: list[str]) -> None:
            from ..harness_frames import without_harness_frames

            self.emit({"output_type": "error", "ename": getattr(etype, "__name__", str(etype)),
                       "evalue": str(evalue), "traceback": without_harness_frames(stb)})

        own = shell.__dict__.get("_showtraceback")
        shell.display_pub.register_hook(display_hook)
        shell.displayhook.register_hook(result_hook)
        shell._showtraceback = show_traceback
        try:
            yield
        finally:
            shell.display_pub.unregister_hook(display_hook)
            shell.displayhook.unregister_hook(result_hook)
            if own is None:
                del shell._showtraceback
            else:
                shell._showtraceback = own
            self.finish()
