"""Hostile bytes never raise out of the pickle scanner and finish in bounded time and memory."""

from __future__ import annotations

import collections
import io
import pickle

import joblib
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pickle_samples import call_pickle, scan

from pellucid.budget import Budget
from pellucid.model import FileKind

_SEEDS = [
    pickle.dumps({"a": [1, 2.5, "x" * 40], "o": collections.OrderedDict(k=b"v")}, protocol=p)
    for p in range(6)
]
_SEEDS.append(call_pickle("os", "system", "touch /nonexistent/never"))
_buf = io.BytesIO()
joblib.dump({"w": np.arange(8.0), "o": np.array([1, "x"], dtype=object)}, _buf)
_SEEDS.append(_buf.getvalue())

_SMALL = Budget(max_pickle_ops=20_000, max_pickle_memo=2_000, max_pickle_streams=200)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = draw(st.sampled_from(_SEEDS))[: draw(st.integers(1, 64))]
    return bytes(data)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), st.sampled_from([FileKind.PICKLE, FileKind.TORCH_LEGACY]))
def test_random_bytes_never_raise(data: bytes, kind: FileKind) -> None:
    result = scan(data, kind, budget=_SMALL)
    assert all(f.rule_id.startswith("PCL-PKL-") for f in result.findings)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_pickles_never_raise_and_stay_bounded(data: bytes) -> None:
    result = scan(data, budget=_SMALL)
    assert len(result.findings) < 64  # consolidated, never one per opcode
    for finding in result.findings:
        assert finding.evidence.offset is None or 0 <= finding.evidence.offset <= len(data)
        assert len(finding.evidence.snippet) <= 200


def test_stack_depth_is_capped_by_the_memo_budget() -> None:
    data = b"\x80\x04" + b"N" * 200_000 + b"."
    result = scan(data, budget=Budget(max_pickle_memo=1_000))
    assert any("stack deeper" in reason for reason in result.incomplete)
