"""Renderers: an ``AuditReport`` in, text out.

One closed enum of formats and one ``render`` entry point. Each format lives in its own module,
imported only when used: ``rich`` and ``jinja2`` must not load when the CLI merely starts.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import assert_never

from pellucid.model import AuditReport, Rule

TOOL_NAME = "pellucid"
PROJECT_URL = "https://github.com/pellucid-dev/pellucid"
"""Home page of the project; SARIF ``informationUri`` and the base of rule help links."""
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"

__all__ = ["OutputFormat", "render"]


class OutputFormat(enum.Enum):
    """Every output pellucid writes. The CLI offers exactly these, by ``value``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"
    MARKDOWN = "markdown"


def render(
    report: AuditReport,
    fmt: OutputFormat,
    *,
    rules: Sequence[Rule] = (),
    color: bool = False,
    width: int = 100,
) -> str:
    """``report`` as text in ``fmt``. ``rules`` documents rule ids (SARIF); ``color`` and
    ``width`` only shape the terminal table."""
    match fmt:
        case OutputFormat.TABLE:
            from pellucid.render.table import render_table

            return render_table(report, color=color, width=width)
        case OutputFormat.JSON:
            from pellucid.render.json import render_json

            return render_json(report)
        case OutputFormat.SARIF:
            from pellucid.render.sarif import render_sarif

            return render_sarif(report, rules)
        case OutputFormat.HTML:
            from pellucid.render.html import render_html

            return render_html(report, rules)
        case OutputFormat.MARKDOWN:
            from pellucid.render.markdown import render_markdown

            return render_markdown(report)
        case _:
            assert_never(fmt)
