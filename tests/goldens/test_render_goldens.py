"""Golden files for the text renderers: any change in output shows up as a diff in review."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pellucid.model import AuditReport
from pellucid.render import OutputFormat, render
from pellucid.render.table import render_summary
from render_samples import RULES, clean_report, incomplete_report, rich_report

Golden = Callable[[str, str], None]
REPORTS: dict[str, Callable[[], AuditReport]] = {
    "rich": rich_report,
    "clean": clean_report,
    "incomplete": incomplete_report,
}


@pytest.mark.parametrize("name", REPORTS)
def test_table_golden(golden: Golden, name: str) -> None:
    golden(f"{name}.table.txt", render(REPORTS[name](), OutputFormat.TABLE, width=100))


@pytest.mark.parametrize("name", REPORTS)
def test_json_golden(golden: Golden, name: str) -> None:
    golden(f"{name}.json", render(REPORTS[name](), OutputFormat.JSON))


def test_summary_golden(golden: Golden) -> None:
    golden("rich.summary.txt", render_summary(rich_report()))


def test_markdown_golden(golden: Golden) -> None:
    golden("rich.md", render(rich_report(), OutputFormat.MARKDOWN))


def test_sarif_golden(golden: Golden) -> None:
    golden("rich.sarif", render(rich_report(), OutputFormat.SARIF, rules=RULES))
