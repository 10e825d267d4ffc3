"""Run suites on a backend: each suite on its own, so one that fails leaves the others.

A suite that needs a capability the backend lacks is not run, and the result says why; so is a
suite whose data is missing or whose backend errs. Per-item outputs go to
``<out>/<suite result id>.jsonl`` so that every figure can be recomputed from them.

A suite is named by a spec, ``ID[:key=value[,key=value...]]``: the suite class declares the
keys it takes and their allowed values in ``parameters``, and is built with them as keyword
arguments. A result of a spec with parameters is named ``ID/<values>...`` and records them in
``sample.parameters``; a bare ID runs and is named as before.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pellucid.fileio import write_atomic
from pellucid.probes.base import (
    GENERATE,
    LOGLIK,
    Backend,
    ProbeError,
    ProbeOptions,
    Suite,
    SuiteResult,
)

# id -> "module:class", imported only when asked for
SUITES: dict[str, str] = {
    "bbq": "pellucid.probes.suites.bbq:BBQ",
    "crows-pairs": "pellucid.probes.suites.crows:CrowsPairs",
    "seat": "pellucid.probes.suites.seat:Seat",
    "xstest": "pellucid.probes.suites.xstest:XSTest",
    "winogender": "pellucid.probes.suites.coref:Winogender",
    "winobias": "pellucid.probes.suites.coref:WinoBias",
    "holistic-bias": "pellucid.probes.suites.holistic:HolisticBias",
    "harmbench-refusal": "pellucid.probes.suites.harmbench:HarmBenchRefusal",
    "decodingtrust-stereotype": "pellucid.probes.suites.decodingtrust:DecodingTrustStereotype",
    "toxicity": "pellucid.probes.suites.toxicity:Toxicity",
}
# name -> "module:factory"; a factory takes (target: str | None, options) and returns a Backend
BACKENDS: dict[str, str] = {
    "transformers": "pellucid.probes.backends.hf:load",
    "embedding": "pellucid.probes.backends.embedding:load",
    "completions": "pellucid.probes.backends.completions:load",
    "openai": "pellucid.probes.backends.openai_http:load",
    "llamacpp": "pellucid.probes.backends.llamacpp:load",
}


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """Everything one ``pellucid probe`` produced: results, and the suites that did not run."""

    results: tuple[SuiteResult, ...]
    not_run: tuple[tuple[str, str], ...]  # (suite id, why)
    jsonl: tuple[Path, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "suites": [r.as_dict() for r in self.results],
            "not_run": [{"id": s, "reason": why} for s, why in self.not_run],
        }


def _load(table: dict[str, str], name: str, what: str) -> Any:
    target = table.get(name)
    if target is None:
        raise ProbeError(f"unknown {what} {name!r}; known: {', '.join(sorted(table))}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # safe: our own table, not input


@dataclass(frozen=True, slots=True)
class SuiteSpec:
    """One suite as asked for: its ID and the parameters given, in the suite's declared order."""

    id: str
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        """The canonical spec text, ``ID`` or ``ID:key=value,...``."""
        if not self.params:
            return self.id
        return f"{self.id}:" + ",".join(f"{k}={v}" for k, v in self.params)

    @property
    def tag(self) -> str:
        """The parameter values joined by '-': the part of a result id that names them."""
        return "-".join(v for _, v in self.params)


def suite_parameters(suite_id: str) -> dict[str, tuple[str, ...]]:
    """The parameters suite ``suite_id`` declares (key -> allowed values, default first)."""
    declared = getattr(_load(SUITES, suite_id, "suite"), "parameters", None) or {}
    return {str(k): tuple(v) for k, v in declared.items()}


def parse_suite_spec(text: str) -> SuiteSpec:
    """``ID[:key=value[,key=value...]]`` checked against the suite's declared parameters;
    ProbeError naming what is allowed for an unknown suite, key or value or a repeated key."""
    suite_id, colon, rest = text.strip().partition(":")
    suite_id = suite_id.strip()
    allowed = suite_parameters(suite_id)  # ProbeError for an unknown suite, listing the known
    given: dict[str, str] = {}
    for pair in rest.split(",") if colon else ():
        key, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not key or not value:
            raise ProbeError(
                f"suite {suite_id}: {pair.strip()!r} is not key=value",
                hint="write --suite ID:key=value[,key=value...]",
            )
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ProbeError(
                f"suite {suite_id}: unknown parameter {key!r}; allowed parameters: {known}"
            )
        if key in given:
            raise ProbeError(f"suite {suite_id}: parameter {key!r} given twice")
        if value not in allowed[key]:
            raise ProbeError(
                f"suite {suite_id}: {key}={value!r} is not allowed; "
                f"allowed values: {', '.join(allowed[key])}"
            )
        given[key] = value
    ordered = tuple((k, given[k]) for k in allowed if k in given)
    return SuiteSpec(suite_id, ordered)


def load_backend(name: str, target: str | None, options: ProbeOptions) -> Backend:
    """The backend ``name`` on ``target`` (a model folder, file or URL); ProbeError if it fails."""
    factory = _load(BACKENDS, name, "backend")
    backend: Backend = factory(target, options)
    return backend


def run_probes(
    backend: Backend, suite_ids: Sequence[str], options: ProbeOptions, out: Path | None
) -> ProbeRun:
    """Run each suite spec (``ID[:key=value,...]``); write each result's items as JSONL under
    ``out`` when given. A malformed spec is a ProbeError before anything runs."""
    results: list[SuiteResult] = []
    not_run: list[tuple[str, str]] = []
    specs = [parse_suite_spec(text) for text in suite_ids]
    for spec in specs:
        suite_id = str(spec)
        suite: Suite = _load(SUITES, spec.id, "suite")(**dict(spec.params))
        if not suite.needs & backend.caps:
            wanted = " or ".join(sorted(suite.needs))
            why = f"needs {wanted}; backend {backend.name} cannot"
            # a server that could not prove its log-probs says why (probes/backends/openai_http.py)
            refused = backend.fingerprint().get("loglik_refused") if LOGLIK in suite.needs else None
            not_run.append((suite_id, f"{why}: {refused}" if refused else why))
            continue
        try:
            results.extend(_named(_prompted(r, suite), spec) for r in suite.run(backend, options))
        except ProbeError as exc:
            not_run.append((suite_id, str(exc)))
    written = tuple(_write_items(r, out) for r in results) if out is not None else ()
    return ProbeRun(tuple(results), tuple(not_run), written)


RAW_PROMPTS = (
    "Prompts went to the model as raw text, not as a chat turn: the model ships a chat template, "
    "and pellucid never renders one (a template is code that comes with the model file). A chat "
    "model may refuse, agree or continue here otherwise than it would in a chat; to go through "
    "its template, serve it with llama-server, Ollama or vLLM and use --backend openai."
)


def _prompted(result: SuiteResult, suite: Suite) -> SuiteResult:
    """The result with the raw-prompt caveat when a generation suite's replies came from a
    local model that has a chat template (backend fingerprint ``chat_template``)."""
    if GENERATE not in suite.needs or not result.backend.get("chat_template"):
        return result
    return replace(result, caveats=(*result.caveats, RAW_PROMPTS))


def _named(result: SuiteResult, spec: SuiteSpec) -> SuiteResult:
    """The result renamed ``ID/<values><suite's own suffix>``, its parameters under sample."""
    if not spec.params:
        return result
    own = result.id[len(spec.id) :] if result.id.startswith(spec.id) else f"/{result.id}"
    sample = {**result.sample, "parameters": dict(spec.params)}
    return replace(result, id=f"{spec.id}/{spec.tag}{own}", sample=sample)


def _write_items(result: SuiteResult, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result.id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)  # ids such as "seat/<test>" nest
    lines = (json.dumps(item, sort_keys=True, ensure_ascii=False) for item in result.items)
    write_atomic(path, "".join(line + "\n" for line in lines).encode())
    return path
