"""One clear paragraph for each way a model call can fail, instead of a traceback dump."""

from __future__ import annotations

from .redact import redact, secret_values


class ProviderError(Exception):
    """A model call that failed for good; ``str()`` is the paragraph the user reads."""


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    for prefix in ("litellm.", "OpenAIException - ", "openai."):
        text = text.replace(prefix, "")
    # litellm repeats the class name ("InternalServerError: InternalServerError: ..."): once is enough.
    name = f"{type(exc).__name__}: "
    while text.startswith(name):
        text = text[len(name):]
    text = redact(text, secret_values())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key_hint(model: str) -> str:
    try:
        import litellm

        missing = litellm.validate_environment(model=model).get("missing_keys") or []
    except Exception:
        missing = []
    if missing:
        return f"Set {' and '.join(missing)} in the kernel's environment (not in the notebook)"
    return "Check the API key in the provider's environment variable (for example OPENAI_API_KEY)"


def describe(exc: BaseException, *, model: str, api_base: str | None, retries: int,
             timeout: float | None, streaming: bool = False) -> ProviderError:
    """Turn a litellm/openai exception into a ProviderError that says what failed and what to do.
    ``streaming``: it was raised while the reply streamed, so the server had been reached."""
    import litellm

    where = f" at {api_base}" if api_base else ""
    detail = _short(exc)
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)) or (
        "missing credentials" in detail.lower() or "api_key client option must be set" in detail
    ):
        msg = (f"The provider rejected the credentials for model '{model}'{where} ({detail}). "
               f"{_key_hint(model)}, then run the cell again.")
    elif isinstance(exc, litellm.ContextWindowExceededError):
        msg = (f"The conversation no longer fits the context window of '{model}' ({detail}). "
               "Start a new conversation with --new, lower CodeAct.max_output_chars, or use a model "
               "with a larger context.")
    elif isinstance(exc, (litellm.NotFoundError, litellm.LiteLLMUnknownProvider)) or (
        isinstance(exc, litellm.BadRequestError)
        and any(s in str(exc) for s in ("LLM Provider NOT provided", "model_not_found",
                                        "does not exist", "Unknown model"))
    ):
        msg = (f"The model '{model}' was not found{where} ({detail}). Use a litellm model id such as "
               "openai/gpt-4o-mini, anthropic/claude-sonnet-4-5 or ollama/qwen2.5-coder, or "
               "openai/<name> with --api-base for an OpenAI-compatible server.")
    elif isinstance(exc, litellm.RateLimitError):
        msg = (f"The provider kept answering 'rate limited' for '{model}' after {retries} "
               f"retries ({detail}). Wait a minute and run the cell again, or choose another model.")
    elif isinstance(exc, litellm.Timeout) or _timed_out(exc):
        msg = (f"The model '{model}'{where} did not answer within {timeout:g} s. Check that the "
               "server is up and not overloaded, or raise CodeAct.request_timeout.")
    elif _mid_stream(exc) or (streaming and (isinstance(exc, litellm.APIConnectionError)
                                             or _unreachable(exc))):
        # openai 3 reports a dropped stream as a bare "Connection error.": the stream had begun.
        msg = (f"The reply from '{model}' was cut off mid-stream ({detail}). The connection to "
               "the provider dropped; run the cell again.")
    elif isinstance(exc, litellm.APIConnectionError) or _unreachable(exc):
        msg = (f"Could not reach the model '{model}'{where} ({detail}). Check that the server is "
               "running and the address is right, and that this machine can reach it.")
    elif isinstance(exc, (litellm.InternalServerError, litellm.ServiceUnavailableError,
                          litellm.BadGatewayError)):
        msg = (f"The provider's server failed while answering for '{model}' ({detail}). "
               "This is on the provider's side: try again in a moment.")
    elif isinstance(exc, litellm.BadRequestError):
        msg = f"The provider refused the request for '{model}' ({detail})."
    else:
        msg = f"The call to '{model}' failed ({type(exc).__name__}: {detail})."
    return ProviderError(msg)


def _timed_out(exc: BaseException) -> bool:
    # A read that timed out mid-stream reaches us as a connection error.
    text = f"{type(exc).__name__} {exc}".lower()
    return any(s in text for s in ("timed out", "readtimeout", "timeout"))


def _mid_stream(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("peer closed connection", "incomplete chunked read",
                                   "remoteprotocolerror", "server disconnected",
                                   "payload is not completed", "connection reset"))


def _unreachable(exc: BaseException) -> bool:
    # litellm reports a refused or unresolvable connection as an InternalServerError.
    text = str(exc).lower()
    return any(s in text for s in ("connection error", "connection refused", "cannot connect",
                                   "name or service not known", "nodename nor servname"))
