"""HarmBench: how often a model refuses plainly harmful requests, by functional category.

Reads ``harmbench_behaviors_text_all.csv`` (columns ``Behavior``, ``FunctionalCategory``,
``SemanticCategory``, ``Tags``, ``ContextString``, ``BehaviorID``). The suite parameter
``category`` picks the behaviours: ``standard`` (the 200 plain requests, the default),
``contextual`` (a request about a given text: the ``ContextString``, a ``---`` line and the
``Behavior`` form the prompt, as HarmBench builds it), ``copyright`` (requests for protected
text, asked as they are) or ``all``, which gives one result per category and never pools them.
Each prompt is one user message, no attack. Replies come from the backend or from a file made
elsewhere (``--completions``), matched by ``BehaviorID``: CSV or JSONL records with
``BehaviorID`` (or ``behavior_id``) and ``completion`` (or ``generation``), or HarmBench's own
completions JSON ``{BehaviorID: [{"test_case": ..., "generation": ...}]}`` with one generation per
behaviour.

The figure is a refusal rate from pellucid's refusal detector. HarmBench's own metric, attack
success, needs its judge model (and, for copyright, hashes of the original texts); a reply that
is not a refusal is not thereby harmful, so the complement of this figure is never reported as
attack success.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pellucid.probes import refusal, stats
from pellucid.probes.base import (
    CHAT,
    COMPLETIONS,
    GENERATE,
    Backend,
    DatasetInfo,
    ProbeError,
    ProbeOptions,
    SuiteResult,
)
from pellucid.probes.canaries import refusal_canary
from pellucid.probes.data import dataset_files, read_text

MAX_TOKENS = 256  # refusals come first; HarmBench itself generates up to 512
UNMATCHED_LIMIT = 0.1  # a larger unmatched share means another release of the behaviours
KINDS = ("standard", "contextual", "copyright")  # HarmBench's FunctionalCategory values
_CAVEATS = (
    "This is a refusal rate from a refusal detector (string rules), not a harm judge: a reply "
    "that does not refuse may still be harmless, vague or wrong, so 1 - refusal_rate is not an "
    "attack success rate and must not be reported as one.",
    "The detector misses refusals phrased otherwise (long preambles, other languages) and can "
    "count an answer that quotes a refusal.",
    "Per-category rates rest on a few dozen behaviours each; compare them by their intervals.",
)
_KIND_CAVEATS = {
    "standard": "Only the standard behaviours, asked directly with no jailbreak: robustness to "
    "attacks is not measured.",
    "contextual": "Contextual behaviours, asked directly with no jailbreak: the ContextString, "
    "a '---' line and the Behavior form one user message, as HarmBench's direct-request "
    "baseline builds them. Robustness to attacks is not measured.",
    "copyright": "Copyright behaviours ask for protected text (book passages, song lyrics). "
    "HarmBench does not judge them by refusal: it hashes the completion (MinHash over sliding "
    "windows) and compares it with hashes of the original text. pellucid does not do this "
    "(it holds neither the texts nor the hashes, which HarmBench ships as Python pickles and "
    "pellucid never loads), so this figure says only how often the model "
    "declines, not whether a reply that does not decline reproduces protected text; it is not "
    "comparable with HarmBench's copyright figures and is not a refusal of harm.",
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    id: str
    behavior: str
    category: str  # SemanticCategory
    kind: str = "standard"  # FunctionalCategory
    context: str = ""  # ContextString (contextual behaviours)

    @property
    def prompt(self) -> str:
        """The one user message; with a context as HarmBench's DirectRequest builds it."""
        # matched: centerforaisafety/HarmBench baselines/direct_request/direct_request.py,
        # DirectRequest.generate_test_cases: f"{context_str}\n\n---\n\n{behavior}" when the
        # ContextString is not empty (GCG, AutoDAN and the other baselines do the same)
        return f"{self.context}\n\n---\n\n{self.behavior}" if self.context else self.behavior


class HarmBenchRefusal:
    """The ``harmbench-refusal`` suite (Mazeika et al. 2024), one or all functional categories."""

    id: ClassVar[str] = "harmbench-refusal"
    needs: ClassVar[frozenset[str]] = frozenset({GENERATE, CHAT, COMPLETIONS})
    parameters: ClassVar[dict[str, tuple[str, ...]]] = {"category": (*KINDS, "all")}

    def __init__(self, category: str = "standard") -> None:
        if category not in self.parameters["category"]:
            allowed = ", ".join(self.parameters["category"])
            raise ProbeError(f"{self.id}: category {category!r} unknown; allowed: {allowed}")
        self.kinds = KINDS if category == "all" else (category,)

    def run(self, backend: Backend, options: ProbeOptions) -> list[SuiteResult]:
        """Read the behaviours, get one reply per chosen behaviour, detect refusals, score."""
        files, dataset = dataset_files(self.id, options.data_dir)
        # the detector first (a miss is our bug), on XSTest's labelled completions if present
        canary, canary_caveat = refusal_canary(files[0].parent)
        behaviours, others = read_behaviours(files[0], self.kinds)
        chosen = [  # each category chosen on its own: --limit N gives N of each
            b
            for kind in self.kinds
            for b in stats.choose(
                [b for b in behaviours if b.kind == kind],
                limit=options.limit,
                sample=options.sample,
                seed=options.seed,
                stratum=lambda b: b.category,
            )
        ]
        left_out = "non_standard_left_out" if self.kinds == ("standard",) else "left_out"
        sample: dict[str, Any] = {left_out: len(others), "refusal_canary": canary}
        if options.limit is not None:
            sample["limit"] = options.limit
        elif options.sample is not None:
            sample.update(sample=options.sample, seed=options.seed)
        if COMPLETIONS in backend.caps:
            path = options.completions or getattr(backend, "path", None)
            if path is None:
                raise ProbeError(f"{self.id}: the completions backend holds no file")
            replies = read_completions(Path(path))
            known = others | {b.id for b in behaviours}
            answers, notes = _match(known, chosen, replies)
            sample.update(notes)
            source = "completions read from a file, matched to behaviours by BehaviorID"
        else:
            texts = backend.generate([b.prompt for b in chosen], MAX_TOKENS)
            if len(texts) != len(chosen):
                raise ProbeError(f"{self.id}: backend returned {len(texts)} of {len(chosen)}")
            answers = list(zip(chosen, texts, strict=True))
            source = f"greedy completions of up to {MAX_TOKENS} tokens, one user message"
        extra = (canary_caveat,) if canary_caveat else ()
        results = []
        for kind in self.kinds:
            items = [_item(b, text) for b, text in answers if b.kind == kind]
            if items:
                results.append(
                    self._result(kind, items, backend, dataset, options, sample, source, extra)
                )
        if not results:
            raise ProbeError(f"{self.id}: no behaviour to score")
        return results

    def _result(
        self,
        kind: str,
        items: Sequence[Mapping[str, Any]],
        backend: Backend,
        dataset: DatasetInfo,
        options: ProbeOptions,
        shared: Mapping[str, Any],
        source: str,
        extra: tuple[str, ...],
    ) -> SuiteResult:
        """The figures of one functional category: never pooled with another."""
        metrics, ci95, categories = _score(items, options)
        sample = dict(shared)
        if len(self.kinds) > 1:
            sample["category"] = kind
        sample["split_half"], unstable = stats.split_half_check(
            "refusal_rate",
            [float(i["refused"]) for i in items],
            ci95["refusal_rate"],
            seed=options.seed,
        )
        prompt = (
            "the ContextString, a '---' line and the Behavior form the prompt (HarmBench's "
            "direct request)"
            if kind == "contextual"
            else "the Behavior text is the whole prompt"
        )
        caveats = (_CAVEATS[0], _KIND_CAVEATS[kind], *_CAVEATS[1:])
        return SuiteResult(
            id=self.id if len(self.kinds) == 1 else f"{self.id}/{kind}",
            n=len(items),
            metrics=metrics,
            ci95=ci95,
            backend={"name": backend.name, **backend.fingerprint()},
            dataset=dataset,
            scoring="refusal rate: pellucid refusal detector (string rules; full or partial "
            f"refusal counts) on {source}; {kind} behaviours; {prompt}",
            caveats=(*caveats, *extra, *((unstable,) if unstable else ())),
            categories=categories,
            items=tuple(items),
            sample=sample,
        )


def _item(behaviour: Behaviour, completion: str) -> dict[str, Any]:
    verdict = refusal.detect(completion)
    return {
        "id": behaviour.id,
        "category": behaviour.category,
        "functional_category": behaviour.kind,
        "prompt": behaviour.prompt,
        "completion": completion,
        "refused": verdict.refused,
        "rule": verdict.rule,
        "evidence": verdict.evidence,
    }


def _score(
    items: Sequence[Mapping[str, Any]], options: ProbeOptions
) -> tuple[dict[str, float], dict[str, tuple[float, float]], dict[str, dict[str, float]]]:
    values = [float(i["refused"]) for i in items]
    ci = stats.bootstrap_ci(values, resamples=options.bootstrap, seed=options.seed)
    categories: dict[str, dict[str, float]] = {}
    for category in sorted({str(i["category"]) for i in items}):
        chosen = [float(i["refused"]) for i in items if i["category"] == category]
        categories[category] = {"refusal_rate": stats.mean(chosen), "n": float(len(chosen))}
    return {"refusal_rate": stats.mean(values)}, {"refusal_rate": ci}, categories


def _match(
    known: set[str], chosen: Sequence[Behaviour], replies: Mapping[str, str]
) -> tuple[list[tuple[Behaviour, str]], dict[str, Any]]:
    """Pair chosen behaviours with replies by BehaviorID; refuse when too many differ."""
    pairs = [(b, replies[b.id]) for b in chosen if b.id in replies]
    missing = [b.id for b in chosen if b.id not in replies]
    orphans = sorted(k for k in replies if k not in known)
    standard = {b.id for b in chosen}
    other = sum(1 for k in replies if k in known and k not in standard)
    for share, what in (
        (len(missing) / max(len(chosen), 1), "behaviours have no completion"),
        (len(orphans) / max(len(replies), 1), "completions match no BehaviorID"),
    ):
        if share > UNMATCHED_LIMIT:
            raise ProbeError(
                f"harmbench-refusal: {share:.0%} of {what} (more than {UNMATCHED_LIMIT:.0%})",
                hint="completions are matched by BehaviorID; check both files are one release",
            )
    notes: dict[str, Any] = {"matched": len(pairs), "completions_not_scored": other}
    if missing:
        notes["unmatched_behaviours"] = missing
    if orphans:
        notes["unmatched_completions"] = orphans
    return pairs, notes


def read_behaviours(
    path: Path, kinds: Sequence[str] = ("standard",)
) -> tuple[list[Behaviour], set[str]]:
    """The behaviours of the HarmBench CSV whose FunctionalCategory is one of ``kinds``, and
    the BehaviorIDs of the others."""
    behaviours: list[Behaviour] = []
    seen: set[str] = set()
    others: set[str] = set()
    for number, row in enumerate(_read_table(path), 2):
        absent = [c for c in ("behavior", "functionalcategory", "behaviorid") if not row.get(c)]
        if absent:
            raise ProbeError(f"{path}: row {number} lacks {', '.join(absent)}")
        kind = row["functionalcategory"].strip().lower()
        if kind not in kinds:
            others.add(row["behaviorid"].strip())
            continue
        key = row["behaviorid"].strip()
        if key in seen:
            raise ProbeError(f"{path}: row {number}: BehaviorID {key!r} repeated")
        seen.add(key)
        category = (row.get("semanticcategory") or "").strip() or "unknown"
        context = row.get("contextstring") or ""  # as read: HarmBench tests only emptiness
        behaviours.append(Behaviour(key, row["behavior"], category, kind, context))
    if not behaviours:
        wanted = " or ".join(kinds)
        raise ProbeError(f"{path}: no {wanted} behaviours (FunctionalCategory == {wanted})")
    return behaviours, others


def read_completions(path: Path) -> dict[str, str]:
    """BehaviorID -> reply from a CSV, JSONL or HarmBench completions JSON file."""
    text = read_text(path)
    head = text.lstrip()[:1]
    if head == "{" and "\n{" not in text.strip():
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict) and all(isinstance(v, list) for v in document.values()):
            return _from_harmbench_json(path, document)
    replies: dict[str, str] = {}
    for number, row in enumerate(_records(path, text), 2):
        key = (row.get("behaviorid") or row.get("behavior_id") or "").strip()
        reply = row.get("completion", row.get("generation"))
        if not key or reply is None:
            raise ProbeError(
                f"{path}: record {number} lacks BehaviorID or completion",
                hint="expected columns: BehaviorID, completion (or behavior_id, generation)",
            )
        if key in replies:
            raise ProbeError(f"{path}: two completions for BehaviorID {key!r}")
        replies[key] = reply
    return replies


def _from_harmbench_json(path: Path, document: dict[str, Any]) -> dict[str, str]:
    replies: dict[str, str] = {}
    for key, cases in document.items():
        if len(cases) != 1:
            raise ProbeError(
                f"{path}: BehaviorID {key!r} has {len(cases)} generations, not one",
                hint="score the direct-request completions (one test case per behaviour)",
            )
        case = cases[0]
        if not isinstance(case, dict) or not isinstance(case.get("generation"), str):
            raise ProbeError(f"{path}: BehaviorID {key!r}: no generation text")
        replies[str(key).strip()] = case["generation"]
    return replies


def _records(path: Path, text: str) -> list[dict[str, str]]:
    """Records of a CSV file with a header or of a JSONL file, keys lower-cased, text values."""
    raw: list[Any] = []
    if text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    raw.append(json.loads(line))
                except (ValueError, RecursionError) as exc:
                    raise ProbeError(f"{path}: line {number}: not JSON ({exc})") from None
    else:
        try:
            raw = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise ProbeError(f"{path}: malformed CSV ({exc})") from None
    records = []
    for number, row in enumerate(raw, 1):
        if not isinstance(row, dict):
            raise ProbeError(f"{path}: record {number} is not an object")
        records.append(
            {str(k).strip().lower(): v for k, v in row.items() if k is not None and type(v) is str}
        )
    if not records:
        raise ProbeError(f"{path}: no records")
    return records


def _read_table(path: Path) -> list[dict[str, str]]:
    return _records(path, read_text(path))
