"""Where a model comes from and what it takes to run: lineage and resource analyses.

``ResourceAnalyzer`` (id "resources") counts parameters, dtypes and bytes from weight-file
headers and estimates the memory the weights need; ``LineageAnalyzer`` (id "lineage") builds
the chain of base models from the card, GGUF keys, adapter, config and merge files.
Both are whole-model analyses (``pellucid.modelanalysis``); they never read tensor data.
"""

from __future__ import annotations

__all__ = ["Ancestor", "Lineage", "LineageAnalyzer", "ResourceAnalyzer", "ResourceProfile"]

from pellucid.provenance.lineage import Ancestor, Lineage, LineageAnalyzer
from pellucid.provenance.resources import ResourceAnalyzer, ResourceProfile
