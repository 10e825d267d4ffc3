"""Real benign checkpoints, written at test time, import only allowlisted globals.

The globals are read from the pickle bytes with ``pickletools.genops`` (never unpickled). The
torch zip is opened with zipfile here, in the test, to reach ``data.pkl``.
"""

from __future__ import annotations

import argparse
import io
import pickle
import pickletools
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pellucid.scanners.pickle_knowledge import allowed, known_gadget

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from allowlist_harvest import globals_in

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
joblib = pytest.importorskip("joblib")
pytest.importorskip("sklearn")


def stream_globals(data: bytes) -> set[tuple[str, str]]:
    """(module, qualname) of every GLOBAL, INST and STACK_GLOBAL in a stream, read by the same
    genops-based harvester the allowlist generator uses (never unpickled)."""
    return {(m, q) for m, _, q in (g.partition(":") for g in globals_in(data))}


def torch_pickles(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        return archive.read(name)


def assert_all_allowed(found: set[tuple[str, str]]) -> None:
    assert found, "no globals harvested: the sample is not what the test thinks"
    refused = sorted((m, q) for m, q in found if allowed(m, q) is None)
    assert refused == []
    assert not [(m, q) for m, q in found if known_gadget(m, q) is not None]


def _model() -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4, 2),
        nn.LayerNorm(2),
        nn.Dropout(0.1),
        nn.TransformerEncoderLayer(2, 1, 4),
    )


@pytest.mark.parametrize("what", ["state_dict", "module"])
def test_torch_checkpoint_globals_are_allowed(tmp_path: Path, what: str) -> None:
    model = _model()
    path = tmp_path / "model.pt"
    torch.save(model.state_dict() if what == "state_dict" else model, path)
    found = stream_globals(torch_pickles(path))
    assert ("torch._utils", "_rebuild_tensor_v2") in found
    assert_all_allowed(found)


def test_torch_training_state_globals_are_allowed(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    state = {
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": torch.amp.GradScaler("cpu").state_dict(),
        "args": argparse.Namespace(lr=0.1, name="run"),
        "rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
    }
    path = tmp_path / "checkpoint.pt"
    torch.save(state, path)
    assert_all_allowed(stream_globals(torch_pickles(path)))


def test_numpy_and_namespace_pickles_are_allowed(tmp_path: Path) -> None:
    payload = {
        "arrays": [np.zeros(3, dtype=d) for d in ("f4", "i8", "?", "U2")],
        "scalar": np.float64(1.5),
        "rng": np.random.default_rng(0),
        "args": argparse.Namespace(lr=0.1),
    }
    for protocol in (2, 4, 5):
        assert_all_allowed(stream_globals(pickle.dumps(payload, protocol=protocol)))


@pytest.fixture(scope="module")
def pipeline() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), np.arange(30) % 2
    columns = ColumnTransformer([("scale", StandardScaler(), [0, 1])], remainder="passthrough")
    pipe = Pipeline([("columns", columns), ("clf", LogisticRegression())]).fit(x, y)
    return [pipe, RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y)]


def test_sklearn_pickle_globals_are_allowed(pipeline: Any) -> None:
    found = stream_globals(pickle.dumps(pipeline))
    assert ("sklearn.pipeline", "Pipeline") in found
    assert_all_allowed(found)


def test_sklearn_joblib_globals_are_allowed(tmp_path: Path, pipeline: Any) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(pipeline, path)
    found = stream_globals(path.read_bytes())
    assert ("joblib.numpy_pickle", "NumpyArrayWrapper") in found
    assert ("sklearn.tree._tree", "Tree") in found  # parsed past the raw array bytes
    assert_all_allowed(found)


def test_trainer_rng_state_globals_are_allowed(tmp_path: Path) -> None:
    """rng_state.pth exactly as the transformers Trainer writes it (on CPU)."""
    import random

    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "cpu": torch.random.get_rng_state(),
    }
    path = tmp_path / "rng_state.pth"
    torch.save(state, path)
    found = stream_globals(torch_pickles(path))
    assert ("numpy._core.multiarray", "_reconstruct") in found
    assert_all_allowed(found)


def test_numpy_generator_pickles_need_the_argument_checked_ctors() -> None:
    """numpy 2 pickles a Generator through __generator_ctor and passes the BitGenerator class to
    __bit_generator_ctor: both are allowed only with the scanner's argument check."""
    rngs = [np.random.default_rng(0), np.random.Generator(np.random.Philox(0))]
    found = stream_globals(pickle.dumps(rngs, protocol=4))
    assert ("numpy.random._pickle", "__generator_ctor") in found
    assert ("numpy.random._pickle", "__bit_generator_ctor") in found
    assert ("numpy.random._philox", "Philox") in found
    assert_all_allowed(found)


def test_sklearn_neighbor_trees_are_allowed(tmp_path: Path) -> None:
    from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier

    x = np.random.default_rng(0).normal(size=(12, 2))
    trees = [
        KDTree(x),
        BallTree(x),
        KNeighborsClassifier(2, algorithm="kd_tree").fit(x, x[:, 0] > 0),
    ]
    path = tmp_path / "trees.joblib"
    joblib.dump(trees, path)
    found = stream_globals(path.read_bytes())
    assert ("sklearn.neighbors._kd_tree", "newObj") in found
    assert_all_allowed(found)


def test_legacy_torch_format_globals_are_allowed(tmp_path: Path) -> None:
    """torch.save(..., _use_new_zipfile_serialization=False): back-to-back pickles, protocol 2."""
    path = tmp_path / "legacy.pt"
    torch.save({"model": _model(), "epoch": 1}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    found: set[tuple[str, str]] = set()
    stream = io.BytesIO(data)
    for _ in range(5):  # magic, protocol, sys_info, object, storage keys
        start = stream.tell()
        for op, _arg, _pos in pickletools.genops(stream):
            if op.name == "STOP":
                break
        found |= stream_globals(data[start : stream.tell()])
    assert ("torch.nn.modules.transformer", "TransformerEncoderLayer") in found
    assert ("torch.nn.functional", "relu") in found
    assert_all_allowed(found)
