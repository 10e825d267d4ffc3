"""Fail the demo if any planted payload ever ran (the marker file must not exist)."""

from __future__ import annotations

import sys
from pathlib import Path

from build_shelf import MARKER_NAME


def main() -> int:
    shelf = Path(sys.argv[1] if len(sys.argv) > 1 else "demo/shelf")
    marker = shelf / MARKER_NAME
    if marker.exists():
        print(f"FAIL: {marker} exists: a payload was executed", file=sys.stderr)
        return 1
    print(f"canary check passed: {marker} was never created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
