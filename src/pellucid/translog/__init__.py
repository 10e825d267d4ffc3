"""A local, append-only RFC 6962 transparency log of model signatures and audit attestations."""

from __future__ import annotations

from pellucid.translog.checkpoint import Checkpoint, CheckpointError
from pellucid.translog.log import (
    ForkError,
    LogError,
    TransparencyLog,
    default_log_dir,
    envelope_entry,
)
from pellucid.translog.merkle import ProofError, verify_consistency, verify_inclusion

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "ForkError",
    "LogError",
    "ProofError",
    "TransparencyLog",
    "default_log_dir",
    "envelope_entry",
    "verify_consistency",
    "verify_inclusion",
]
