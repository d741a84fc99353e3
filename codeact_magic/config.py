"""``CodeAct``: the settings users change with ``%config CodeAct.x = ...`` or ipython_config.py."""

from __future__ import annotations

import os

from traitlets import Float, Integer, Unicode
from traitlets.config import Configurable


class NoModelChosen(Exception):
    pass


class CodeAct(Configurable):
    model = Unicode(
        "", help="litellm model id (openai/gpt-4o-mini, ollama/qwen2.5-coder, openai/<name> with "
        "api_base...). Empty: the CODEACT_MODEL environment variable."
    ).tag(config=True)
    api_base = Unicode(
        "", help="Base URL of an OpenAI-compatible server (llama.cpp, vLLM, ollama...)."
    ).tag(config=True)
    max_steps = Integer(10, min=1, help="Most code steps a run may take.").tag(config=True)
    step_timeout = Float(
        60.0, min=0.0, help="Seconds a step may run before it is interrupted; 0 for no limit."
    ).tag(config=True)
    max_output_chars = Integer(
        4000, min=200, help="Most characters of a step's output the model is shown (head and tail)."
    ).tag(config=True)
    max_tokens = Integer(2048, min=1, help="Most tokens in one model reply.").tag(config=True)
    temperature = Float(None, allow_none=True, help="Sampling temperature; None: the provider's.").tag(
        config=True)
    request_timeout = Float(120.0, min=1.0, help="Seconds to wait for the model.").tag(config=True)
    rate_limit_retries = Integer(2, min=0, help="Retries, with backoff, when rate limited.").tag(
        config=True)
    preset = Unicode(
        "auto", help="Prompt preset: auto (by model id), default, or qwen."
    ).tag(config=True)
    system_template = Unicode(
        "", help="System prompt; {python_modules} is replaced. Empty: the preset's."
    ).tag(config=True)
    output_template = Unicode(
        "", help="Shown after a step; {execution_feedback} is replaced. Empty: the preset's."
    ).tag(config=True)
    error_template = Unicode(
        "", help="Shown after a failed step; {execution_feedback} is replaced. Empty: the preset's."
    ).tag(config=True)

    def resolve_model(self, option: str | None = None) -> str:
        """``--model``, then ``%config CodeAct.model``, then ``CODEACT_MODEL``."""
        model = option or self.model or os.environ.get("CODEACT_MODEL", "")
        if not model:
            raise NoModelChosen(
                "No model is chosen for %%codeact. Pick one of:\n"
                "  • a cloud model: %config CodeAct.model = 'openai/gpt-4o-mini' and OPENAI_API_KEY "
                "in the kernel's environment (any litellm id works: anthropic/..., gemini/...);\n"
                "  • ollama: --model ollama/qwen2.5-coder;\n"
                "  • any OpenAI-compatible server (llama.cpp, vLLM): "
                "--model openai/<name> --api-base http://host:port/v1;\n"
                "  • or set CODEACT_MODEL in the environment."
            )
        return model
