"""Keeping secrets away from the model: env values and kernel variables with secret-looking names,
the API key, and values shaped like secrets wherever they appear.

A value is hidden in its plain form and in the escaped forms code prints it in (``repr``, JSON, a
URL). What cannot be prevented: code can always print a secret transformed (reversed, base64,
split); confirm mode is the guard there (README, "Security").
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

MARKER = "[REDACTED]"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|CREDS", re.IGNORECASE)
# Short words that name a secret only as a whole part of a name (``db_pw``, ``pass``), not inside
# others (``passenger_count``).
_SECRET_PARTS = {"pw", "pass", "passphrase", "auth", "dsn"}
# Shorter values ("1", "true") would blank out ordinary text, and are no secrets worth the name.
_MIN_LENGTH = 6
# Secrets by their shape: the part to hide is the pattern's group 1.
_SHAPES = [re.compile(p) for p in (
    r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'\"]*:([^\s/@'\"]{3,})@",  # a password in a URL
    r"\b((?:sk|pk|rk)-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{20,})",  # OpenAI, Anthropic, Stripe
    r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",  # GitHub
    r"\b(xox[abprs]-[A-Za-z0-9-]{10,})",  # Slack
    r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b",  # AWS access key id
    r"\b(AIza[0-9A-Za-z_-]{35})",  # Google
    r"\b(hf_[A-Za-z0-9]{30,})",  # Hugging Face
    r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})",  # a JWT
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
)]


def looks_secret(name: str) -> bool:
    if _SECRET_NAME.search(name) is not None:
        return True
    parts = re.split(r"[^a-zA-Z0-9]+|(?<=[a-z])(?=[A-Z])", name)
    return any(p.lower() in _SECRET_PARTS for p in parts)


def has_secret_shape(text: str) -> bool:
    return any(shape.search(text) for shape in _SHAPES)


def _forms(value: str) -> set[str]:
    """``value`` as printed plainly, by ``repr``, as JSON and in a URL."""
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1], quote(value, safe="")}
    return {f for f in forms if len(f.strip()) >= _MIN_LENGTH}


def secret_values(environ: Mapping[str, str] | None = None, extra: Iterable[str | None] = ()) -> list[str]:
    """The values to hide, in all their forms, longest first so a secret containing another is
    replaced whole."""
    environ = os.environ if environ is None else environ
    values = {v for k, v in environ.items() if looks_secret(k)}
    values.update(v for v in extra if v)
    forms = set().union(*(_forms(v) for v in values)) if values else set()
    return sorted(forms, key=len, reverse=True)


def namespace_secrets(namespace: Mapping[str, Any]) -> list[str]:
    """String values a kernel holds under secret-looking names (``password = ...``), directly or one
    level down in a dict (``creds = {"pw": ...}``). Only isinstance checks: no user code runs."""
    found = []
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        if isinstance(value, str) and looks_secret(name):
            found.append(value)
        elif isinstance(value, dict):
            secret_dict = looks_secret(name)
            for key, item in list(value.items())[:100]:
                if isinstance(key, str) and isinstance(item, str) and (secret_dict or looks_secret(key)):
                    found.append(item)
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, MARKER)
    for shape in _SHAPES:
        text = shape.sub(lambda m: m.group(0).replace(m.group(1), MARKER), text)
    return text
