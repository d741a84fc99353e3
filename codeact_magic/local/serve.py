"""The embedded model's server process: llama.cpp's OpenAI-compatible app, plus a health route.

Started by ``server.py`` as ``python -m codeact_magic.local.serve``, with every setting in its
environment, never on its command line (which every local user can read with ``ps``).

- Requests queue for the model in the order they come, and a reply being streamed is never cut for
  another one (llama-cpp-python's ``interrupt_requests`` is off: it ended a reply with a normal-looking
  ``[DONE]`` whenever another kernel, or a mere probe, sent a request).
- ``GET /codeact/health`` answers at once, even while the model generates (it takes no model lock),
  with this instance's id, so a client knows it talks to this very process, and whether the model
  is busy, so a waiting run can say so.
- ``POST /codeact/usage`` counts the tokens of a conversation and a reply exactly as the model
  sees them (its chat template, its tokenizer), also without the model lock: a client that closed
  a stream early (at the end of a code block) gets no usage from the server, and another tokenizer
  would only estimate it.
"""

from __future__ import annotations

import hmac
import os

ENV_KEY = "CODEACT_LOCAL_KEY"
ENV_INSTANCE = "CODEACT_LOCAL_INSTANCE"
ENV_PORT = "CODEACT_LOCAL_PORT"
ENV_MODEL = "CODEACT_LOCAL_MODEL"
ENV_ALIAS = "CODEACT_LOCAL_ALIAS"
ENV_CONTEXT = "CODEACT_LOCAL_CONTEXT"
ENV_THREADS = "CODEACT_LOCAL_THREADS"
ENV_HOST = "CODEACT_LOCAL_HOST"  # loopback for a user's own server; `codeact serve` may say otherwise
HEALTH = "/codeact/health"
USAGE = "/codeact/usage"


def main() -> None:
    import uvicorn
    from fastapi import Body, Header, HTTPException
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    from llama_cpp.server import app as llama_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    key, instance = os.environ.pop(ENV_KEY), os.environ.pop(ENV_INSTANCE)
    port, alias = int(os.environ[ENV_PORT]), os.environ[ENV_ALIAS]
    threads = int(os.environ[ENV_THREADS])
    host = os.environ.get(ENV_HOST, "127.0.0.1")
    server = ServerSettings(host=host, port=port, api_key=key, interrupt_requests=False)
    model = ModelSettings(model=os.environ[ENV_MODEL], model_alias=alias,
                          n_ctx=int(os.environ[ENV_CONTEXT]), n_threads=threads,
                          n_threads_batch=threads)
    app = llama_app.create_app(server_settings=server, model_settings=[model])

    def check(authorization: str) -> None:
        if not hmac.compare_digest(authorization.encode(), f"Bearer {key}".encode()):
            raise HTTPException(status_code=401, detail="Invalid API key")

    formatter: list = []  # built on first use, from the model's own chat template

    @app.post(USAGE, include_in_schema=False)
    def usage(payload: dict = Body(...), authorization: str = Header(default="")) -> dict:
        check(authorization)
        llama = llama_app._llama_proxy(alias)  # the loaded model: tokenizing only reads its vocabulary
        if not formatter:  # as llama.cpp's Llama builds its default chat format
            eos, bos = llama.token_eos(), llama.token_bos()
            formatter.append(Jinja2ChatFormatter(
                template=llama.metadata["tokenizer.chat_template"],
                eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llama._model.token_get_text(bos) if bos != -1 else ""))
        prompt = formatter[0](messages=payload.get("messages", [])).prompt
        count = lambda text: len(llama.tokenize(text.encode(), add_bos=False, special=True))  # noqa: E731
        return {"prompt_tokens": count(prompt), "completion_tokens": count(payload.get("text", ""))}

    @app.get(HEALTH, include_in_schema=False)
    def health(authorization: str = Header(default="")) -> dict:
        check(authorization)
        # The locks llama-cpp-python's app holds while a request uses the model (read, not taken).
        inner = getattr(llama_app, "llama_inner_lock", None)
        outer = getattr(llama_app, "llama_outer_lock", None)
        return {"instance": instance, "model": alias, "pid": os.getpid(),
                "busy": bool(inner is not None and inner.locked()),
                "queued": bool(outer is not None and outer.locked())}

    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
