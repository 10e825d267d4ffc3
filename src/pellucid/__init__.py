"""pellucid: see through an open AI model before you trust it.

The public API is small: ``run_audit`` turns paths into an ``AuditReport``; renderers in
``pellucid.render`` turn a report into text. Importing this package has no side effects and
imports no ML framework.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
