"""The model layer: a small streaming interface, and its implementation on litellm.

A model takes the conversation and yields ``TextDelta``s as the reply streams in, then exactly one
``ModelReply`` with the whole (cut) text and its usage. Another backend only has to do the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .answer_form import AnswerForm
from .form_grammar import form_grammar
from .provider_error import ProviderError, _unreachable, describe
from .reply import parse_reply
from .run import Usage

Message = dict[str, str]

# A reply that must run code (GBNF, llama.cpp's grammar format): a few lines of words, then one
# Python block. The words hold no backtick, so the block's fence is the first one, and they are
# bounded: a model that would rather answer in words otherwise writes on (or emits blank lines) up
# to its token limit, since the grammar does not let it stop. The code holds no triple backtick.
# What follows the closing fence is left open: a model's token for the fence often carries the
# newline after it, and a grammar ending right at the fence made it write "``" and go on. The
# client cuts the reply at the fence anyway.
CODE_GRAMMAR = r"""
root  ::= prose "```python\n" code "\n```" tail
prose ::= ([^`\n]{0,300} ("\n" [^`\n]{0,300}){0,3} "\n")?
code  ::= ([^`] | "`" [^`] | "``" [^`])*
tail  ::= ("\n" [^`]*)?
"""


@dataclass(frozen=True)
class TextDelta:
    text: str


# The temperature of a reply that must differ from the greedy one (tactic: resample).
EXPLORE_TEMPERATURE = 0.7
# A server that asks for a longer wait than this before a retry: the run ends and says so.
MAX_RETRY_WAIT = 60.0


async def _not_a_stream(response: Any) -> str | None:
    """What a 200 answer holds when it is not a stream of the reply (an HTML error page from a
    proxy, a JSON error body): its kind and its own message. None for a stream."""
    raw = getattr(getattr(response, "completion_stream", None), "response", None)
    headers = getattr(raw, "headers", None)
    if headers is None:
        hidden = getattr(response, "_hidden_params", None) or {}
        kind = (hidden.get("additional_headers") or {}).get("llm_provider-content-type", "")
    else:
        kind = headers.get("content-type", "")
    # Only the shapes an error takes: a stream with an unusual content type is still read as one.
    if not any(k in kind for k in ("text/html", "application/json", "text/plain")):
        return None
    body = ""
    if raw is not None:
        try:
            body = (await raw.aread()).decode("utf-8", "replace")
        except Exception:
            body = ""
    message = body
    if "json" in kind:
        try:
            data = json.loads(body)
            error = data.get("error", data) if isinstance(data, dict) else data
            message = str(error.get("message", error) if isinstance(error, dict) else error)
        except ValueError:
            pass
    elif "html" in kind:
        message = re.sub(r"<[^>]+>", " ", re.sub(r"(?is)<(script|style).*?</\1>", " ", body))
    message = " ".join(message.split())
    message = message if len(message) <= 300 else message[:299] + "…"
    kind = kind.split(";")[0].strip()
    return f"{kind} (\"{message}\")" if message else kind


def _retry_after(exc: BaseException) -> float | None:
    """The seconds a failed answer's Retry-After header asks for (a number; dates are rare)."""
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    try:
        value = headers.get("retry-after-ms") if headers is not None else None
        if value is not None:
            return max(0.0, float(value) / 1000)
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class Waiting:
    """Before a reply starts: the server is busy with another request, and this one waits its turn."""

    text: str


@dataclass(frozen=True)
class ModelReply:
    text: str  # cut after the first code block: what the history keeps
    usage: Usage
    # Why the reply ended: "code" (cut here after its first code block), or the provider's reason
    # ("stop", "length" for the token limit, ...).
    finish_reason: str | None = None


class Model(Protocol):
    name: str

    def stream(self, messages: Sequence[Message], *, require_code: bool = False,
               explore: bool = False, form: AnswerForm | None = None,
               ) -> AsyncIterator[TextDelta | Waiting | ModelReply]:
        """``require_code``: this reply must hold a code block. A backend that can constrain its
        decoding (the embedded llama.cpp server, with a grammar) does; others may ignore it.
        ``form``: this reply must hand over an answer in that form, through final_answer(); the
        same backends hold it to the form's literal parts (form_grammar.py), others may ignore it.
        ``explore``: this reply must not be the one the same prompt gave before; a model that
        decodes greedily samples it instead. A ``Waiting`` may come first, when the reply will not
        start at once."""
        ...

    def usage_of(self, messages: Sequence[Message], text: str) -> Usage:
        """Tokens and cost of a reply cut short (a Stop mid-stream): those are paid for too."""
        ...


def import_litellm() -> Any:
    """Import litellm on first use only: it takes seconds, and by default it fetches a price list
    from the internet at import time, which an offline machine cannot do."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners in the cell
    return litellm


def _is_openai(api_base: str) -> bool:
    from urllib.parse import urlparse

    host = (urlparse(api_base).hostname or "").lower()
    return host == "openai.com" or host.endswith(".openai.com")


@dataclass
class LiteLLM:
    """Any litellm model id: cloud providers, ollama, or ``openai/<name>`` with an ``api_base``."""

    name: str
    api_base: str | None = None
    api_key: str | None = None
    stop: Sequence[str] = ()
    max_tokens: int | None = 2048
    temperature: float | None = None
    request_timeout: float = 120.0  # for the answer to start, and between two of its chunks
    reply_timeout: float | None = 600.0  # for the whole reply
    rate_limit_retries: int = 2
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    free: bool = False  # a model that costs nothing (the embedded one): cost 0, not "unknown"
    # The server takes a GBNF grammar per request (llama.cpp's does): ``require_code`` and ``form``
    # are enforced.
    grammar: bool = False
    # The model sees images: a step's figures are sent to it (images.py).
    vision: bool = False
    # Asked before each call (in a thread): a line to show while the server is busy elsewhere, or None.
    busy_note: Callable[[], str | None] | None = None
    # Exact (prompt, completion) tokens of a reply the server sent no usage for, or None.
    count_tokens: Callable[[Sequence[Message], str], tuple[int, int] | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _stop_rejected: bool = field(default=False, repr=False)

    def _params(self, messages: Sequence[Message], use_stop: bool,
                require_code: bool = False, explore: bool = False,
                form: AnswerForm | None = None) -> dict[str, Any]:
        params: dict[str, Any] = dict(
            model=self.name,
            messages=list(messages),
            stream=True,
            stream_options={"include_usage": True},
            timeout=self.request_timeout,
            drop_params=True,
            num_retries=0,  # retries are ours, bounded and visible
            **self.extra,
        )
        optional = dict(api_base=self.api_base, api_key=self.api_key, max_tokens=self.max_tokens,
                        temperature=self.temperature, stop=list(self.stop) if use_stop else None)
        params.update({k: v for k, v in optional.items() if v})
        if self.api_base and not self.api_key and self.name.startswith("openai/") \
                and not _is_openai(self.api_base):
            # Another server than OpenAI's: the ambient OPENAI_API_KEY is not for it, and a
            # self-hosted one (llama.cpp, vLLM) wants none, though the OpenAI client refuses to
            # send a request without a key. Its own key is named with CodeAct.api_key_env.
            params["api_key"] = "no-key"
        if self.temperature == 0:
            # Greedy decoding answers the same prompt the same way: a reply that must differ
            # (the model went round in circles) is sampled.
            params["temperature"] = EXPLORE_TEMPERATURE if explore else 0
        if self.grammar and (require_code or form is not None):
            grammar = form_grammar(form) if form is not None else CODE_GRAMMAR
            params["extra_body"] = {**params.get("extra_body", {}), "grammar": grammar}
        return params

    def supports_vision(self) -> bool:
        """Whether litellm knows this model to take images."""
        try:
            return bool(import_litellm().supports_vision(model=self.name))
        except Exception:
            return False

    def context_tokens(self) -> int | None:
        """The model's input window, where litellm knows it."""
        try:
            return import_litellm().get_model_info(self.name).get("max_input_tokens")
        except Exception:
            return None

    def _fail(self, exc: BaseException, *, streaming: bool = False) -> ProviderError:
        return describe(exc, model=self.name, api_base=self.api_base, retries=self.rate_limit_retries,
                        timeout=self.request_timeout, streaming=streaming)

    async def _open(self, litellm: Any, messages: Sequence[Message], require_code: bool,
                    explore: bool, form: AnswerForm | None = None) -> Any:
        use_stop = bool(self.stop) and not self._stop_rejected
        retries = 0
        while True:
            try:
                return await litellm.acompletion(**self._params(messages, use_stop, require_code, explore,
                                                                form))
            except (litellm.RateLimitError, litellm.InternalServerError, litellm.ServiceUnavailableError,
                    litellm.BadGatewayError) as exc:
                # Rate limits and a server's passing failures (500, 502, 503) are retried a bounded
                # number of times, after the wait the server asks for, if it says one.
                if retries >= self.rate_limit_retries or _unreachable(exc):
                    raise self._fail(exc) from None
                wait = _retry_after(exc)
                if wait is not None and wait > MAX_RETRY_WAIT:
                    raise ProviderError(
                        f"The provider asks to wait {wait:g} s before the next request to "
                        f"'{self.name}' ({type(exc).__name__}). Run the cell again after that, or "
                        "choose another model.") from None
                await asyncio.sleep(self.backoff * 2**retries if wait is None else wait)
                retries += 1
            except litellm.BadRequestError as exc:
                # Some models (o3, o4, gpt-5...) refuse `stop`: the client-side cut does its job.
                if use_stop and "stop" in str(exc).lower():
                    use_stop, self._stop_rejected = False, True
                    continue
                raise self._fail(exc) from None
            except Exception as exc:
                raise self._fail(exc) from None

    async def stream(self, messages: Sequence[Message], *, require_code: bool = False,
                     explore: bool = False, form: AnswerForm | None = None,
                     ) -> AsyncIterator[TextDelta | Waiting | ModelReply]:
        litellm = import_litellm()
        if self.busy_note is not None:
            note = await asyncio.to_thread(self.busy_note)
            if note:
                yield Waiting(note)
        response = await self._open(litellm, messages, require_code, explore, form)
        if (not_a_reply := await _not_a_stream(response)) is not None:
            await response.aclose()
            where = f" at {self.api_base}" if self.api_base else ""
            raise ProviderError(f"The server{where} answered '{self.name}' with {not_a_reply}, not a reply. "
                                "Check the address and that the server is up (a proxy in front of it "
                                "may have failed).")
        text, usage, finish_reason = "", None, None
        try:
            # The whole reply has a deadline: a server that drips a chunk just within the
            # per-read timeout would otherwise hold the run for ever.
            async with asyncio.timeout(self.reply_timeout):
                async for chunk in response:
                    usage = getattr(chunk, "usage", None) or usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish_reason = getattr(choice, "finish_reason", None) or finish_reason
                    delta = choice.delta.content if choice.delta else None
                    if not delta:
                        continue
                    parsed = parse_reply(text + delta)
                    if parsed.code is not None and parsed.closed:
                        # The first code block is complete: whatever follows would be invented output.
                        yield TextDelta(parsed.text[len(text):])
                        text, finish_reason = parsed.text, "code"
                        break
                    text += delta
                    yield TextDelta(delta)
        except ProviderError:
            raise
        except TimeoutError:
            raise ProviderError(
                f"The reply from '{self.name}' took longer than {self.reply_timeout:g} s in all and was "
                "stopped (CodeAct.reply_timeout). The server may be overloaded; run the cell again, "
                "or raise the limit.") from None
        except Exception as exc:
            raise self._fail(exc, streaming=True) from None
        finally:
            await response.aclose()
        # Counting may ask the server (or tokenize): not on the event loop.
        counted = await asyncio.to_thread(self._usage, litellm, messages, text, usage)
        yield ModelReply(text, counted, finish_reason)

    def usage_of(self, messages: Sequence[Message], text: str) -> Usage:
        return self._usage(import_litellm(), messages, text, None)

    def _usage(self, litellm: Any, messages: Sequence[Message], text: str, reported: Any) -> Usage:
        counted = None
        if reported is None or getattr(reported, "prompt_tokens", None) is None:
            # No usage chunk (the stream was closed at the end of the code block): the server can
            # count exactly where it offers to (the embedded one), else litellm estimates.
            counted = self.count_tokens(messages, text) if self.count_tokens else None
        if reported is not None and getattr(reported, "prompt_tokens", None) is not None:
            prompt, completion, estimated = reported.prompt_tokens, reported.completion_tokens or 0, False
        elif counted is not None:
            (prompt, completion), estimated = counted, False
        else:
            prompt = litellm.token_counter(model=self.name, messages=list(messages))
            completion = litellm.token_counter(model=self.name, text=text)
            estimated = True
        if self.free:
            return Usage(prompt, completion, 0.0, estimated, calls=1)
        try:
            p_cost, c_cost = litellm.cost_per_token(
                model=self.name, prompt_tokens=prompt, completion_tokens=completion)
            cost: float | None = p_cost + c_cost
        except Exception:
            cost = None  # a price litellm does not know (a local or self-hosted model)
        return Usage(prompt, completion, cost, estimated, calls=1)
