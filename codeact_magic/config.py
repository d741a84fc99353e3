"""``CodeAct``: the settings users change with ``%config CodeAct.x = ...`` or ipython_config.py."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from traitlets import Bool, Enum, Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable


LOCAL = "local"  # the model id of the embedded model: `--model local`


class NoModelChosen(Exception):
    pass


class CodeAct(Configurable):
    model = Unicode(
        "", help="litellm model id (openai/gpt-4o-mini, ollama/qwen2.5-coder, openai/<name> with "
        "api_base...). Empty: the CODEACT_MODEL environment variable."
    ).tag(config=True)
    api_base = Unicode(
        help="Base URL of an OpenAI-compatible server (llama.cpp, vLLM, ollama...). Default: the "
        "CODEACT_API_BASE environment variable."
    ).tag(config=True)
    api_key_env = Unicode(
        help="Name of the environment variable that holds the key for api_base (the key itself "
        "never goes in a notebook). Empty: a server at api_base gets no key, not even OPENAI_API_KEY, "
        "which is meant for OpenAI's own. Default: the CODEACT_API_KEY_ENV environment variable."
    ).tag(config=True)

    # What a hub admin sets once for everybody, in the environment of every user's kernel.
    @default("api_base")
    def _api_base_from_environment(self) -> str:
        return os.environ.get("CODEACT_API_BASE", "")

    @default("api_key_env")
    def _api_key_env_from_environment(self) -> str:
        return os.environ.get("CODEACT_API_KEY_ENV", "")
    max_steps = Integer(10, min=1, help="Most code steps a run may take.").tag(config=True)
    step_timeout = Float(
        60.0, min=0.0, help="Seconds a step may run before it is interrupted; 0 for no limit."
    ).tag(config=True)

    @validate("step_timeout")
    def _check_step_timeout(self, proposal: Any) -> float:
        from .interrupts import check_step_timeout

        value = proposal["value"]
        if value == 0:
            return 0.0
        try:
            return check_step_timeout(value)
        except ValueError as exc:
            raise TraitError(f"CodeAct.step_timeout: {exc}, or 0 for no limit") from None

    max_request_chars = Integer(
        100_000, min=100, help="Longest request sent (each model call carries it whole); longer text "
        "goes in a file or a variable the request names."
    ).tag(config=True)
    max_output_chars = Integer(
        4000, min=200, help="Most characters of a step's output the model is shown (head and tail)."
    ).tag(config=True)
    max_tokens = Integer(2048, min=1, help="Most tokens in one model reply.").tag(config=True)
    temperature = Float(None, allow_none=True, help="Sampling temperature; None: the provider's.").tag(
        config=True)
    request_timeout = Float(120.0, min=1.0, help="Seconds to wait for the model's reply to start, and "
                            "between two parts of it.").tag(config=True)
    reply_timeout = Float(600.0, min=1.0, help="Most seconds one whole reply of the model may take.").tag(
        config=True)
    rate_limit_retries = Integer(2, min=0, help="Retries, with backoff (or the wait the server asks "
                                 "for), when rate limited or when the server fails (500, 502, 503).").tag(
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

    mode = Enum(
        ["auto", "confirm", "step"], default_value="auto",
        help="auto: run every step; confirm: ask before each step (Run, Edit, Skip, Stop); "
        "step: pause after each step until Continue.",
    ).tag(config=True)
    max_cost = Float(
        None, allow_none=True, min=0.0,
        help="USD. No model call starts once a run has spent this much (where the price is known).",
    ).tag(config=True)
    tactics = Unicode(
        "default", help="How the model is made to act and check before it answers: 'default', or "
        "'none' (the 0.1 loop), then changes such as '-restate', '+check', 'require_code=always' "
        "(codeact_magic.tactics; measured in benchmarks/)."
    ).tag(config=True)
    skills = List(
        Unicode(), default_value=[], help="Skill modules (importable names): their source, or for a "
        "long one its public functions, goes into the system prompt, and the model is asked to import "
        "and use them (--skills adds to these)."
    ).tag(config=True)
    context_tokens = Integer(
        None, allow_none=True, min=256, help="The model's input window in tokens, where litellm does "
        "not know it (a self-hosted model): runs keep their prompts within it. None: litellm's figure."
    ).tag(config=True)
    memory_chars = Integer(
        12_000, min=0, help="Most characters of earlier runs in this kernel that a run carries (one "
        "conversation: oldest runs told in short first, then left out; at most a third of the "
        "model's window). 0: every run starts afresh."
    ).tag(config=True)
    vision = Enum(
        ["auto", "on", "off"], default_value="auto",
        help="Send the figures a step draws to the model as images: auto (where litellm knows the "
        "model sees images), on, or off (a line of text: kind and size)."
    ).tag(config=True)
    show_cells = Enum(
        ["error", "all", "none"], default_value="error",
        help="Tell the model of the cells you ran since the previous run: 'error' (the latest, with "
        "its whole error, when it failed), 'all' (the last three: source, value, the latest's "
        "error), 'none'."
    ).tag(config=True)
    show_variables = Bool(
        True, help="Tell the model which variables the kernel holds (names, types, short values; "
        "never the values of secret-looking names)."
    ).tag(config=True)
    local_temperature = Float(
        0.0, min=0.0, help="Sampling temperature of the embedded model (CodeAct.temperature wins if set)."
    ).tag(config=True)
    local_max_tokens = Integer(
        1024, min=1, help="Most tokens in one reply of the embedded local model."
    ).tag(config=True)

    def resolve_model(self, option: str | None = None) -> ModelChoice:
        """``--model``, then ``%config CodeAct.model``, then ``CODEACT_MODEL``, then the embedded
        model when the ``local`` extra is installed."""
        for value, source in ((option, "--model"), (self.model, "%config CodeAct.model"),
                              (os.environ.get("CODEACT_MODEL"), "CODEACT_MODEL")):
            if value:
                return ModelChoice(value, source)
        if self.api_base:
            # A shared endpoint is configured (a hub's): never start a per-user embedded model.
            raise NoModelChosen(
                f"CodeAct.api_base is set ({self.api_base}) but no model is: set CODEACT_MODEL (or "
                "%config CodeAct.model) to the model that server serves, e.g. openai/<name>.")
        from .local.weights import installed

        if installed() and importlib.util.find_spec("llama_cpp") is not None:
            return ModelChoice(LOCAL, "the embedded default: no --model, CodeAct.model or CODEACT_MODEL")
        raise NoModelChosen(
            "No model is chosen for %%codeact. Pick one of:\n"
            "  • the embedded local model, offline and free: pip install 'codeact-magic[local]';\n"
            "  • a cloud model: %config CodeAct.model = 'openai/gpt-4o-mini' with OPENAI_API_KEY "
            "in the kernel's environment (any litellm id works: anthropic/..., gemini/...);\n"
            "  • ollama: --model ollama/qwen2.5-coder;\n"
            "  • any OpenAI-compatible server (llama.cpp, vLLM): "
            "--model openai/<name> --api-base http://host:port/v1;\n"
            "  • or set CODEACT_MODEL in the environment."
        )


@dataclass(frozen=True)
class ModelChoice:
    model: str  # a litellm id, or LOCAL
    source: str  # where the choice came from, for %codeact status

    @property
    def local(self) -> bool:
        return self.model == LOCAL


def config_of(shell: Any) -> CodeAct:
    for c in shell.configurables:
        if isinstance(c, CodeAct):
            return c
    # arun() without %load_ext: read the same config anyway.
    config = CodeAct(parent=shell)
    shell.configurables.append(config)
    return config
