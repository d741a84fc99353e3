"""``codeact serve``: the embedded model as one server for a class (or a team).

The same server each user's kernel would start for itself (llama-cpp-python's OpenAI-compatible
app: requests queue and a streamed reply is never cut for another), started once, where the admin
says, with a key read from the environment. Kernels reach it with the three settings it prints;
with them set, no kernel starts an embedded server of its own.
"""

from __future__ import annotations

import ipaddress
import os
import sys

from ..local.cache import cache_dir
from ..local.serve import (ENV_ALIAS, ENV_CONTEXT, ENV_HOST, ENV_INSTANCE, ENV_KEY, ENV_MODEL, ENV_PORT,
                           ENV_THREADS)
from ..local.server import ALIAS, CONTEXT_TOKENS, threads
from ..local.weights import QWEN_CODER_1_5B, ensure_weights


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(host: str, port: int, key_env: str, context: int, n_threads: int) -> int:
    key = os.environ.get(key_env, "")
    if not key:
        print(f"codeact serve: ${key_env} is empty. Put the class's key in it (never on a command "
              "line: every user of the machine can read those), e.g.\n"
              f"  export {key_env}=$(python -c 'import secrets; print(secrets.token_urlsafe(24))')",
              file=sys.stderr)
        return 2
    if not _loopback(host) and len(key) < 16:
        print(f"codeact serve: ${key_env} is too short for a server others can reach "
              "(16 characters at least).", file=sys.stderr)
        return 2
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("codeact serve: the embedded model's runtime is not installed: "
              "pip install 'codeact-magic[local]'", file=sys.stderr)
        return 2
    model = ensure_weights(QWEN_CODER_1_5B, cache_dir(), lambda text: print(text, file=sys.stderr))
    where = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/v1"
    print("The embedded model, for everybody who has the key. In each user's environment (a hub's\n"
          "c.Spawner.environment, say):\n"
          f"  CODEACT_MODEL=openai/{ALIAS}\n"
          f"  CODEACT_API_BASE={where}   (this machine's address as the users reach it)\n"
          f"  CODEACT_API_KEY_ENV={key_env}   (and {key_env} itself, set to the key)\n"
          "Requests queue, one reply at a time; Ctrl-C stops the server.", flush=True)
    os.environ.update({ENV_KEY: key, ENV_INSTANCE: os.urandom(8).hex(), ENV_PORT: str(port),
                       ENV_MODEL: str(model), ENV_ALIAS: ALIAS, ENV_CONTEXT: str(context),
                       ENV_THREADS: str(n_threads), ENV_HOST: host})
    from ..local.serve import main

    try:
        main()
    except KeyboardInterrupt:
        pass
    return 0


def add_options(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key-env", default="CODEACT_CLASS_KEY",
                        help="the environment variable holding the key clients must send "
                             "(default CODEACT_CLASS_KEY); the key itself is never an option")
    parser.add_argument("--context", type=int, default=CONTEXT_TOKENS, help="context window, in tokens")
    parser.add_argument("--threads", type=int, default=threads(), help="CPU threads for the model")
