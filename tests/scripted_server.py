"""An OpenAI-compatible chat server with scripted replies, for deterministic tests of the loop.

Real HTTP on 127.0.0.1 (chunked server-sent events when streaming), so litellm, httpx and the
whole client path run for real. Each request pops the next ``Reply`` from the script (or asks a
function for it). Every request body is kept in ``requests`` for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    text: str = ""
    status: int = 200  # an error status answers with an OpenAI-style error body instead
    error_message: str = "scripted error"
    error_type: str = "server_error"
    retry_after: str | None = None  # the Retry-After header of an error answer
    # A 200 answer that is not a reply at all: (content type, body), as a proxy's error page is.
    raw_body: tuple[str, str] | None = None
    delay: float = 0.0  # seconds before the answer starts
    chunk_size: int = 6  # characters per streamed chunk
    chunk_delay: float = 0.0
    cut_after: int | None = None  # drop the connection after this many characters, mid-stream
    honor_stop: bool = True  # cut at the request's stop sequences, as real servers do
    send_usage: bool = True
    reject_stop: bool = False  # answer 400 "stop is not supported" when the request has `stop`
    # Why the stream ends: "stop", "length" (the token limit), or None for a stream that ends with
    # [DONE] and no finish reason (what llama.cpp's server does when another request cuts a reply).
    finish_reason: str | None = "stop"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # Clients that hang up (a cut reply, an interrupted run) are part of the tests, not errors.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ScriptedServer:
    def __init__(self) -> None:
        self.script: deque[Reply | Callable[[dict], Reply]] = deque()
        self.requests: list[dict] = []
        self.authorizations: list[str | None] = []  # each request's Authorization header
        self.default: Reply | Callable[[dict], Reply] | None = None
        self._lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> ScriptedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self, *replies: Reply | str | Callable[[dict], Reply]) -> None:
        with self._lock:
            self.script = deque(Reply(r) if isinstance(r, str) else r for r in replies)
            self.requests = []
            self.authorizations = []
            self.default = None

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
            item = self.script.popleft() if self.script else self.default
        if item is None:
            return Reply(status=500, error_message="the test script has no more replies")
        return item(body) if callable(item) else item


def _handler(server: ScriptedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            server.authorizations.append(self.headers.get("Authorization"))
            reply = server.next_reply(body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.reject_stop and body.get("stop"):
                return self._error(400, "Unsupported parameter: 'stop' is not supported with this model.",
                                   "invalid_request_error")
            if reply.raw_body is not None:
                kind, raw = reply.raw_body
                data = raw.encode()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if reply.status != 200:
                return self._error(reply.status, reply.error_message, reply.error_type,
                                   reply.retry_after)
            text = reply.text
            if reply.honor_stop and body.get("stop"):
                stops = body["stop"] if isinstance(body["stop"], list) else [body["stop"]]
                cuts = [text.find(s) for s in stops if s and s in text]
                if cuts:
                    text = text[: min(cuts)]
            prompt_tokens = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": max(1, len(text) // 4)}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            base = {"id": "chatcmpl-scripted", "created": int(time.time()),
                    "model": body.get("model", "scripted")}
            if not body.get("stream"):
                return self._json(200, {**base, "object": "chat.completion", "usage": usage,
                                        "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                                                     "message": {"role": "assistant", "content": text}}]})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = {**base, "object": "chat.completion.chunk"}
            sent = 0
            pieces = [text[i: i + reply.chunk_size] for i in range(0, len(text), reply.chunk_size)]
            for n, piece in enumerate(pieces):
                if reply.cut_after is not None and sent >= reply.cut_after:
                    # Drop the connection mid-stream: no final chunk, no [DONE], no chunked end.
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    self.close_connection = True
                    return
                delta = {"content": piece}
                if n == 0:
                    delta["role"] = "assistant"
                if not self._event({**chunk, "choices": [{"index": 0, "delta": delta,
                                                          "finish_reason": None}]}):
                    return  # the client hung up (it cut the reply itself)
                sent += len(piece)
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
            if reply.finish_reason is not None:
                self._event({**chunk, "choices": [{"index": 0, "delta": {},
                                                   "finish_reason": reply.finish_reason}]})
            if reply.send_usage and (body.get("stream_options") or {}).get("include_usage"):
                self._event({**chunk, "choices": [], "usage": usage})
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")

        def _event(self, payload: dict) -> bool:
            return self._send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

        def _send_chunk(self, data: bytes) -> bool:
            try:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                return True
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return False

        def _error(self, status: int, message: str, etype: str, retry_after: str | None = None) -> None:
            headers = {"Retry-After": retry_after} if retry_after else {}
            self._json(status, {"error": {"message": message, "type": etype, "code": None}}, headers)

    return Handler


if __name__ == "__main__":  # a manual check: python tests/scripted_server.py
    s = ScriptedServer().start()
    s.default = Reply("Hello from the scripted server.")
    print(s.url)
    threading.Event().wait()
