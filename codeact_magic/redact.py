"""Keeping secrets away from the model: env values with secret-looking names, and the API key."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

MARKER = "[REDACTED]"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
# Shorter values ("1", "true") would blank out ordinary text, and are no secrets worth the name.
_MIN_LENGTH = 6


def looks_secret(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def secret_values(environ: Mapping[str, str] | None = None, extra: Iterable[str | None] = ()) -> list[str]:
    """The values to hide, longest first so a secret containing another is replaced whole."""
    environ = os.environ if environ is None else environ
    values = {v for k, v in environ.items() if _SECRET_NAME.search(k)}
    values.update(v for v in extra if v)
    return sorted((v for v in values if len(v.strip()) >= _MIN_LENGTH), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, MARKER)
    return text
