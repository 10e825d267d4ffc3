"""CrowS-Pairs scoring (lm-eval's crows_pairs_english), the canaries, and the command end to
end on the tiny model. The CSVs are synthetic, in the upstream layout."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import tiny_model

from cli_run import pellucid
from pellucid.probes import stats
from pellucid.probes.backends.hf import load
from pellucid.probes.base import LOGLIK, ProbeError, ProbeOptions
from pellucid.probes.canaries import (
    GRAMMATICAL,
    PAIRS,
    determinism_canary,
    likelihood_canary,
)
from pellucid.probes.suites.crows import NEAR_TIE, CrowsPairs, read_pairs

HEADER = (
    "",
    "id",
    "sent_more",
    "sent_less",
    "stereo_antistereo",
    "bias_type",
    "annotations",
    "anon_writer",
    "anon_annotators",
)
TYPES = ("race-color", "gender", "age")


def write_csv(folder: Path, rows: int = 24, header: Sequence[str] = HEADER) -> Path:
    """A synthetic ``crows_pairs_anonymized.csv``: sentences from the tiny model's world."""
    folder.mkdir(parents=True, exist_ok=True)
    sentences = tiny_model.sentences()
    with (folder / "crows_pairs_anonymized.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for i in range(rows):
            more, less = sentences[(7 * i) % 216], sentences[(7 * i + 3) % 216]
            direction = "stereo" if i % 5 else "antistereo"
            out.writerow([i, 1000 + i, more, less, direction, TYPES[i % 3], "[]", "a", "[]"])
    return folder


class FakeBackend:
    """Scores from a function; records every request it was asked."""

    name = "fake"
    caps = frozenset({LOGLIK})

    def __init__(self, score: Callable[[str], float]) -> None:
        self.score = score
        self.asked: list[tuple[str, str]] = []

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        self.asked.extend(requests)
        return [self.score(cont) for _, cont in requests]

    def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise NotImplementedError

    def fingerprint(self) -> dict[str, object]:
        return {"backend": "fake"}


class BatchedFake(FakeBackend):
    """A fake with a batch size whose batch-1 scores drift by ``drift``."""

    def __init__(self, score: Callable[[str], float], drift: float) -> None:
        super().__init__(score)
        self.batch_size = 8
        self.drift = drift

    def loglikelihood(  # adds the optional batch_size
        self, requests: Sequence[tuple[str, str]], batch_size: int | None = None
    ) -> list[float]:
        shift = self.drift if batch_size == 1 else 0.0
        return [s + shift for s in super().loglikelihood(requests)]


def grammatical(text: str) -> float:
    """Prefers the canary's grammatical sentences; otherwise a length-based score."""
    return 0.0 if text in GRAMMATICAL else -float(len(text)) / 3


@pytest.fixture(scope="session")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_model.cached(tmp_path_factory)


def test_crows_metrics_recompute_from_items(tmp_path: Path) -> None:
    options = ProbeOptions(data_dir=write_csv(tmp_path), bootstrap=200, seed=7)
    [result] = CrowsPairs().run(FakeBackend(grammatical), options)
    items = result.items
    assert result.id == "crows-pairs"
    assert result.n == len(items) == 24
    assert {"id", "bias_type", "ll_more", "ll_less", "margin", "stereotype"} <= set(items[0])
    share = sum(i["ll_more"] > i["ll_less"] for i in items) / len(items)
    gap = sum(abs(i["ll_more"] - i["ll_less"]) for i in items) / len(items)
    assert result.metrics["pct_stereotype"] == pytest.approx(share)
    assert result.metrics["likelihood_diff"] == pytest.approx(gap)
    assert result.metrics["near_ties"] == sum(abs(i["margin"]) < NEAR_TIE for i in items)
    flags = [1.0 if i["stereotype"] else 0.0 for i in items]
    assert result.ci95["pct_stereotype"] == stats.bootstrap_ci(flags, resamples=200, seed=7)
    for bias_type in TYPES:
        members = [i for i in items if i["bias_type"] == bias_type]
        category = result.categories[bias_type]
        assert category["n"] == len(members)
        assert category["pct_stereotype"] == pytest.approx(
            sum(i["stereotype"] for i in members) / len(members)
        )
    assert "crows_pairs_english" in result.scoring
    assert any("Blodgett" in c for c in result.caveats)
    assert result.backend["canaries"]["likelihood"]["grammatical_preferred"] == 1.0


def test_bootstrap_ci_deterministic_for_a_seed(tmp_path: Path) -> None:
    data = write_csv(tmp_path, rows=60)
    runs = [
        CrowsPairs().run(FakeBackend(grammatical), ProbeOptions(data_dir=data, seed=s))[0]
        for s in (3, 3, 4)
    ]
    assert runs[0].ci95 == runs[1].ci95
    assert runs[0].ci95 != runs[2].ci95
    low, high = runs[0].ci95["likelihood_diff"]
    assert low <= runs[0].metrics["likelihood_diff"] <= high


def test_sample_is_stratified_by_bias_type(tmp_path: Path) -> None:
    options = ProbeOptions(data_dir=write_csv(tmp_path, rows=30), sample=9, seed=1)
    [result] = CrowsPairs().run(FakeBackend(grammatical), options)
    assert result.n == 9
    assert {t: result.categories[t]["n"] for t in TYPES} == dict.fromkeys(TYPES, 3.0)
    assert result.sample == {"sample": 9, "seed": 1, "split_half": result.sample["split_half"]}


def test_csv_with_wrong_column_names_it(tmp_path: Path) -> None:
    header = tuple("sent_more_x" if h == "sent_more" else h for h in HEADER)
    with pytest.raises(ProbeError, match="sent_more"):
        read_pairs(write_csv(tmp_path, header=header) / "crows_pairs_anonymized.csv")


def test_missing_data_dir_is_a_probe_error(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="not found"):
        CrowsPairs().run(FakeBackend(grammatical), ProbeOptions())
    with pytest.raises(ProbeError, match="not found"):
        CrowsPairs().run(FakeBackend(grammatical), ProbeOptions(data_dir=tmp_path))


def test_likelihood_canary_failure_aborts_before_scoring(tmp_path: Path) -> None:
    backend = FakeBackend(lambda text: -float(text in GRAMMATICAL))  # prefers scrambled
    with pytest.raises(ProbeError, match="backend fails the likelihood canary"):
        CrowsPairs().run(backend, ProbeOptions(data_dir=write_csv(tmp_path)))
    assert len(backend.asked) == 2 * len(PAIRS)  # the canary only, no pair scored


def test_likelihood_canary_threshold_is_a_parameter() -> None:
    flip = set(GRAMMATICAL[:2])  # 18/20 = 90% preferred
    backend = FakeBackend(lambda t: -1e3 if t in flip else grammatical(t))
    with pytest.raises(ProbeError, match="18/20"):
        likelihood_canary(backend)
    assert likelihood_canary(backend, 0.9)["grammatical_preferred"] == 0.9


def test_canaries_can_be_disabled(tmp_path: Path) -> None:
    backend = FakeBackend(lambda text: -float(text in GRAMMATICAL))
    options = ProbeOptions(data_dir=write_csv(tmp_path), canaries=False)
    [result] = CrowsPairs().run(backend, options)
    assert result.backend["canaries"] == {"enabled": False}
    assert len(backend.asked) == 2 * 24


def test_determinism_canary_drift_becomes_a_caveat(tmp_path: Path) -> None:
    data = write_csv(tmp_path)
    [steady] = CrowsPairs().run(BatchedFake(grammatical, 1e-5), ProbeOptions(data_dir=data))
    [drifting] = CrowsPairs().run(BatchedFake(grammatical, 0.01), ProbeOptions(data_dir=data))
    assert steady.backend["canaries"]["determinism"]["status"] == "pass"
    assert not any("determinism" in c for c in steady.caveats)
    assert drifting.backend["canaries"]["determinism"]["max_abs_delta"] == pytest.approx(0.01)
    assert any("determinism canary failed" in c for c in drifting.caveats)
    record, caveat = determinism_canary(FakeBackend(grammatical), [("", "a")], [0.0])
    assert caveat is None
    assert record["status"].startswith("not applicable")


def test_crows_on_tiny_model_uses_backend_scores(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    backend = load(str(folders[0]), ProbeOptions(batch_size=4))
    options = ProbeOptions(data_dir=write_csv(tmp_path, rows=12), canaries=False)
    [result] = CrowsPairs().run(backend, options)
    pairs = read_pairs(tmp_path / "crows_pairs_anonymized.csv")
    first = backend.loglikelihood([("", pairs[0].sent_more), ("", pairs[0].sent_less)])
    assert [result.items[0]["ll_more"], result.items[0]["ll_less"]] == pytest.approx(first)
    assert result.backend["batch_size"] == 4


def test_probe_command_end_to_end(folders: tuple[Path, Path], tmp_path: Path) -> None:
    data, out = write_csv(tmp_path / "data", rows=15), tmp_path / "out"
    done = pellucid(
        "probe", str(folders[0]), "--suite", "crows-pairs", "--data-dir", str(data),
        "--json", "--no-canaries", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    suite = report["suites"][0]
    assert suite["id"] == "crows-pairs"
    assert {"pct_stereotype", "likelihood_diff"} <= set(suite["metrics"])
    assert set(suite["ci95"]) == {"pct_stereotype", "likelihood_diff"}
    assert suite["backend"]["files"]["model.safetensors"]
    lines = (out / "crows-pairs.jsonl").read_text().splitlines()
    assert len(lines) == 15
    assert {json.loads(line)["id"] for line in lines} == {str(1000 + i) for i in range(15)}


def test_split_half_per_bias_type(tmp_path: Path) -> None:
    """Each bias type's pct_stereotype is halved as the whole sample's is; an unstable type
    adds one caveat naming it."""
    data = write_csv(tmp_path, rows=60)
    pairs = read_pairs(data / "crows_pairs_anonymized.csv")
    # the fake prefers sent_more on every age pair only: each type's halves are recomputed here
    chosen = {p.sent_more for p in pairs if p.bias_type == "age"}
    options = ProbeOptions(data_dir=data, canaries=False, seed=5)
    [result] = CrowsPairs().run(FakeBackend(lambda t: 0.0 if t in chosen else -1.0), options)
    for bias_type in TYPES:
        flags = [
            1.0 if i["stereotype"] else 0.0 for i in result.items if i["bias_type"] == bias_type
        ]
        category = result.categories[bias_type]
        interval = (category["pct_stereotype_ci95_low"], category["pct_stereotype_ci95_high"])
        record, _ = stats.split_half_check("pct_stereotype", flags, interval, seed=5)
        assert [category["pct_stereotype_half_a"], category["pct_stereotype_half_b"]] == (
            record["halves"]
        )
        assert category["pct_stereotype_unstable"] == float(record["unstable"])
    unstable = [t for t in TYPES if result.categories[t]["pct_stereotype_unstable"]]
    per_type = [c for c in result.caveats if c.startswith("Split-half check per bias type")]
    assert len(per_type) == (1 if unstable else 0)
    assert all(t in per_type[0] for t in unstable)


def test_unstable_bias_type_is_named(tmp_path: Path) -> None:
    from pellucid.probes.suites.crows import _unstable_categories

    steady = {"pct_stereotype_unstable": 0.0}
    assert _unstable_categories({"age": steady, "gender": steady}) is None
    caveat = _unstable_categories({"age": {"pct_stereotype_unstable": 1.0}, "gender": steady})
    assert caveat is not None
    assert "for age;" in caveat
    assert "gender" not in caveat
