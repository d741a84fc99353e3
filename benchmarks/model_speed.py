"""The embedded model's speed under llama.cpp settings, replayed on real conversations.

Every model call of some stored runs (``benchmarks/dabench.py --out`` or ``m3tooleval.py --out``)
is made again, in order, with the settings the local server uses (the first setting, ``server``) and
with each other setting asked for: the messages before a stored reply are the prompt, and the model
writes as many tokens as that reply had (the loop closes the stream at the end of a code block, so
that is how much it generates). One conversation after another on one model, as the server sees
them: the prompt's prefix already in the KV cache is not evaluated again.

Printed per setting: the tokens evaluated and the seconds until the first token (prompt
processing and one token), the tokens and seconds after it (generation), their rates, all calls' seconds as a
ratio to the server's setting, and how many replies are the same as with the server's setting (at
temperature 0 a setting that changes replies is not only a speed change: the benchmarks judge it).

    python benchmarks/model_speed.py --runs RUNS.jsonl [--conversations 6] [--settings server,flash_attn]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

def _prompt_lookup(tokens: int) -> Callable[[], dict]:
    # Speculative decoding with drafts copied from the conversation itself (llama-cpp-python's
    # LlamaPromptLookupDecoding): code and answers repeat names and values the prompt holds. A
    # draft model makes llama-cpp-python keep every position's logits, so this is measured whole:
    # what generation gains against what prompt processing pays. logits_all is said outright:
    # llama-cpp-python 0.3 sizes its logits array by the argument, not by the draft model.
    def kwargs() -> dict:
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        return {"draft_model": LlamaPromptLookupDecoding(num_pred_tokens=tokens), "logits_all": True}
    return kwargs


# Each setting: keyword arguments for llama_cpp.Llama on top of the server's (or a function that
# makes them, for objects one model must not share with another).
SETTINGS: dict[str, dict | Callable[[], dict]] = {
    "server": {},
    "flash_attn": {"flash_attn": True},
    "batch256": {"n_batch": 256, "n_ubatch": 256},
    "flash_attn_q8kv": {"flash_attn": True, "type_k": 8, "type_v": 8},  # GGML_TYPE_Q8_0
    "prompt_lookup": _prompt_lookup(10),
    "prompt_lookup4": _prompt_lookup(4),
}


@dataclass
class Timing:
    prompt_tokens: int = 0  # evaluated, not found in the cache
    prompt_seconds: float = 0.0
    generated: int = 0
    generation_seconds: float = 0.0
    replies: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.prompt_seconds + self.generation_seconds


def conversations(path: str, count: int) -> list[list[dict]]:
    """The first ``count`` stored runs with at least one model reply, as message lists."""
    found = []
    with open(path) as f:
        for line in f:
            trajectory = json.loads(line).get("trajectory") or []
            if any(m["role"] == "assistant" for m in trajectory) and trajectory[0]["role"] == "system":
                found.append(trajectory)
            if len(found) == count:
                break
    return found


def replay(settings: dict | Callable[[], dict], chats: list[list[dict]]) -> Timing:
    import llama_cpp

    from codeact_magic.local.server import CONTEXT_TOKENS, threads
    from codeact_magic.local.weights import model_path

    n = threads()
    settings = settings() if callable(settings) else settings
    llama = llama_cpp.Llama(model_path=str(model_path()), n_ctx=CONTEXT_TOKENS, n_threads=n,
                            n_threads_batch=n, verbose=False, **settings)
    timing = Timing()
    for chat in chats:
        for i, message in enumerate(chat):
            if message["role"] != "assistant":
                continue
            limit = max(1, len(llama.tokenize(message["content"].encode(), add_bos=False)))
            llama_cpp.llama_perf_context_reset(llama.ctx)
            started = time.perf_counter()
            first, parts = None, []
            for chunk in llama.create_chat_completion(messages=chat[:i], max_tokens=limit,
                                                      temperature=0.0, stream=True):
                delta = chunk["choices"][0]["delta"].get("content")
                if delta and first is None:
                    first = time.perf_counter()
                parts.append(delta or "")
            ended = time.perf_counter()
            perf = llama_cpp.llama_perf_context(llama.ctx)
            first = first or ended
            timing.prompt_tokens += perf.n_p_eval
            timing.prompt_seconds += first - started
            timing.generated += perf.n_eval
            timing.generation_seconds += ended - first
            timing.replies.append("".join(parts))
    llama.close()
    return timing


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", required=True, help="a JSONL of runs with their trajectories")
    p.add_argument("--conversations", type=int, default=6)
    p.add_argument("--settings", default="server,flash_attn", help=f"from {', '.join(SETTINGS)}")
    args = p.parse_args()
    names = args.settings.split(",")
    if names[0] != "server":
        names.insert(0, "server")  # the baseline every ratio is taken against
    chats = conversations(args.runs, args.conversations)
    calls = sum(m["role"] == "assistant" for chat in chats for m in chat)
    print(f"{len(chats)} conversations, {calls} model calls, replayed with each setting in turn\n")
    results = {}
    for name in names:
        results[name] = replay(SETTINGS[name], chats)
    base = results["server"]
    rows = [["setting", "prompt tok", "prompt s", "prompt tok/s", "generated", "gen s", "gen tok/s",
             "all s", "ratio", "same replies"]]
    for name, t in results.items():
        same = sum(a == b for a, b in zip(t.replies, base.replies))
        rows.append([name, f"{t.prompt_tokens:,}", f"{t.prompt_seconds:.1f}",
                     f"{t.prompt_tokens / max(t.prompt_seconds, 1e-9):.1f}", f"{t.generated:,}",
                     f"{t.generation_seconds:.1f}", f"{t.generated / max(t.generation_seconds, 1e-9):.1f}",
                     f"{t.seconds:.1f}", f"{t.seconds / base.seconds:.2f}", f"{same}/{calls}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for j, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if j == 0:
            print("| " + " | ".join("-" * w for w in widths) + " |")
    print("\nseconds per call: " + ", ".join(f"{n} {t.seconds / calls:.2f}" for n, t in results.items()))


if __name__ == "__main__":
    main()
