"""Run the installed command line the way a user does: a child process, outputs captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def pellucid(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pellucid ARGS`` with this interpreter; ``env`` adds to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "pellucid", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
