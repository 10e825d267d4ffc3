"""Versioned knowledge shipped with pellucid (allowlists, denylists, known templates).

Files are JSON, read lazily and cached: nothing here is parsed at start-up.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_json(name: str) -> Any:
    """Parse ``pellucid/data/<name>`` once per process."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)
