"""AI-BOMs of audited model folders: CycloneDX 1.6 JSON and SPDX 3.0.1 JSON-LD."""

from __future__ import annotations

from pellucid.bom.cyclonedx import cyclonedx_bom
from pellucid.bom.spdx import spdx_bom

__all__ = ["cyclonedx_bom", "spdx_bom"]
