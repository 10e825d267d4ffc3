"""Pieces every command module shares: exit codes and safe writing of outputs."""

from __future__ import annotations

from pellucid.fileio import write_atomic

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 2

__all__ = ["EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_INCOMPLETE", "write_atomic"]
