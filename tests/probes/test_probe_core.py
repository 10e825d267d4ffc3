"""The probe core: statistics, dataset files and digests, and the runner's fail-soft rules."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.probes import data, runner
from pellucid.probes.base import (
    EMBED,
    GENERATE,
    LOGLIK,
    DatasetInfo,
    ProbeError,
    ProbeOptions,
    SuiteResult,
)
from pellucid.probes.stats import bootstrap_ci, choose, holm, mean

# --- statistics ---------------------------------------------------------------------------


def test_holm_matches_hand_computed_values() -> None:
    # sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1 = 0.04); given order kept
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    # monotone: a later step never falls below an earlier one, and nothing exceeds 1
    assert holm([0.5, 0.001, 0.4]) == pytest.approx([0.8, 0.003, 0.8])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # 0.8 x 2 is capped at 1


def test_bootstrap_is_deterministic_and_brackets_the_mean() -> None:
    values = [float(i % 2) for i in range(200)]
    first = bootstrap_ci(values, seed=7)
    assert first == bootstrap_ci(values, seed=7)
    assert first != bootstrap_ci(values, seed=8)
    assert first[0] < mean(values) < first[1]
    assert 0.05 < first[1] - first[0] < 0.2  # about +-1.96 * sqrt(.25 / 200) = +-0.069


def test_bootstrap_of_nothing_is_nan() -> None:
    low, high = bootstrap_ci([])
    assert low != low  # NaN
    assert high != high


def test_limit_takes_the_first_items_in_file_order() -> None:
    assert choose(list(range(10)), limit=3) == [0, 1, 2]


def test_sample_is_stratified_seeded_and_keeps_file_order() -> None:
    items = [("a", i) for i in range(60)] + [("b", i) for i in range(40)]
    chosen = choose(items, sample=10, seed=3, stratum=lambda item: item[0])
    assert len(chosen) == 10
    assert sum(1 for k, _ in chosen if k == "a") == 6  # proportional to 60:40
    assert chosen == choose(items, sample=10, seed=3, stratum=lambda item: item[0])
    assert all(items.index(x) < items.index(y) for x, y in pairwise(chosen))


@settings(max_examples=100, deadline=2000)
@given(st.lists(st.sampled_from("abc"), max_size=60), st.integers(1, 70), st.integers(0, 9))
def test_sample_size_is_exact(strata: list[str], size: int, seed: int) -> None:
    chosen = choose(list(enumerate(strata)), sample=size, seed=seed, stratum=lambda x: x[1])
    assert len(chosen) == min(size, len(strata))


# --- datasets -----------------------------------------------------------------------------


def test_dataset_files_report_their_digests(tmp_path: Path) -> None:
    csv = tmp_path / "crows_pairs_anonymized.csv"
    csv.write_text("id,sent_more\n")
    files, info = data.dataset_files("crows-pairs", tmp_path)
    assert files == [csv]
    digest = hashlib.sha256(csv.read_bytes()).hexdigest()
    assert info.files == {"crows_pairs_anonymized.csv": digest}
    assert info.license == "CC-BY-SA-4.0"


def test_a_file_whose_digest_differs_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = data.DATASETS["crows-pairs"]
    pinned = data.DatasetSpec(
        spec.name, {"crows_pairs_anonymized.csv": "0" * 64}, spec.license, spec.citation, ""
    )
    monkeypatch.setitem(data.DATASETS, "crows-pairs", pinned)
    (tmp_path / "crows_pairs_anonymized.csv").write_text("edited\n")
    with pytest.raises(ProbeError, match="not the pinned"):
        data.dataset_files("crows-pairs", tmp_path)


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [("crows-pairs", None, "user-data/crows_pairs_anonymized.csv not found"),
     ("crows-pairs", "empty", "not found"),
     ("nope", "empty", "no dataset named")],
)  # fmt: skip
def test_missing_data_is_a_clear_error(
    tmp_path: Path, name: str, where: str | None, message: str
) -> None:
    with pytest.raises(ProbeError, match=message):
        data.dataset_files(name, tmp_path if where else None)


# --- the runner ---------------------------------------------------------------------------

INFO = DatasetInfo("fake", {"f": "0" * 64}, "MIT", "none", "here")


class FakeBackend:
    name = "fake"
    caps = frozenset({LOGLIK})

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        return [-float(len(c)) for _, c in requests]

    def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        raise ProbeError("cannot generate")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise ProbeError("cannot embed")

    def fingerprint(self) -> dict[str, Any]:
        return {"name": "fake"}


class Scores:
    id: ClassVar[str] = "scores"
    needs: ClassVar[frozenset[str]] = frozenset({LOGLIK})

    def run(self, backend: Any, options: ProbeOptions) -> list[SuiteResult]:
        values = backend.loglikelihood([("", "ab"), ("", "abcd")])
        items = tuple({"i": i, "ll": v} for i, v in enumerate(values))
        return [
            SuiteResult("scores", 2, {"mean": mean(values)}, {}, backend.fingerprint(), INFO,
                        "mean log-likelihood", items=items)
        ]  # fmt: skip


class Embeds(Scores):
    id: ClassVar[str] = "embeds"
    needs: ClassVar[frozenset[str]] = frozenset({EMBED})


class Broken(Scores):
    id: ClassVar[str] = "broken"

    def run(self, backend: Any, options: ProbeOptions) -> list[SuiteResult]:
        raise ProbeError("its data has no sent_more column")


@pytest.fixture
def suites(monkeypatch: pytest.MonkeyPatch) -> None:
    here = __name__
    for suite_id, cls in (("scores", "Scores"), ("embeds", "Embeds"), ("broken", "Broken")):
        monkeypatch.setitem(runner.SUITES, suite_id, f"{here}:{cls}")


@pytest.mark.usefixtures("suites")
def test_a_suite_that_cannot_run_is_listed_and_the_others_still_run(tmp_path: Path) -> None:
    run = runner.run_probes(
        FakeBackend(), ["broken", "embeds", "scores"], ProbeOptions(), tmp_path / "out"
    )
    assert [r.id for r in run.results] == ["scores"]
    assert run.results[0].metrics == {"mean": -3.0}
    assert dict(run.not_run) == {
        "broken": "its data has no sent_more column",
        "embeds": "needs embed; backend fake cannot",
    }
    lines = (tmp_path / "out" / "scores.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"i": 0, "ll": -2.0}, {"i": 1, "ll": -4.0}]
    shown = run.as_dict()
    assert shown["suites"][0]["dataset"]["files"] == {"f": "0" * 64}
    assert {s["id"] for s in shown["not_run"]} == {"broken", "embeds"}


def test_unknown_suite_and_backend_are_clear_errors() -> None:
    with pytest.raises(ProbeError, match="unknown suite 'nope'"):
        runner.run_probes(FakeBackend(), ["nope"], ProbeOptions(), None)
    with pytest.raises(ProbeError, match="unknown backend 'nope'"):
        runner.load_backend("nope", None, ProbeOptions())


class ChatBackend(FakeBackend):
    """A local model that ships a chat template and generates from raw prompts."""

    caps = frozenset({LOGLIK, GENERATE})

    def __init__(self, chat_template: bool) -> None:
        self.chat_template = chat_template

    def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        return ["I'm sorry, I can't." for _ in prompts]

    def fingerprint(self) -> dict[str, Any]:
        return {"name": "fake", "chat_template": self.chat_template, "prompt_format": "raw"}


class Replies(Scores):
    id: ClassVar[str] = "replies"
    needs: ClassVar[frozenset[str]] = frozenset({GENERATE})

    def run(self, backend: Any, options: ProbeOptions) -> list[SuiteResult]:
        replies = backend.generate(["hello"], 8)
        return [
            SuiteResult("replies", 1, {"n": float(len(replies))}, {}, backend.fingerprint(),
                        INFO, "replies counted")
        ]  # fmt: skip


@pytest.mark.parametrize("chat_template", [True, False])
def test_raw_prompts_to_a_chat_model_are_a_caveat(
    chat_template: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = __name__
    monkeypatch.setitem(runner.SUITES, "replies", f"{here}:Replies")
    monkeypatch.setitem(runner.SUITES, "scores", f"{here}:Scores")
    run = runner.run_probes(ChatBackend(chat_template), ["replies", "scores"], ProbeOptions(), None)
    caveats = {r.id: r.caveats for r in run.results}
    assert (runner.RAW_PROMPTS in caveats["replies"]) is chat_template
    assert runner.RAW_PROMPTS not in caveats["scores"]  # likelihoods of raw text, by design
