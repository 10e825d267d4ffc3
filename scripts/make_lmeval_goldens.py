"""Write lm-evaluation-harness goldens for the probe tests (dev time, run once), on the tiny
random GPT-2 of the probe tests:

- tests/probes/goldens/crows_lmeval.json: per-item CrowS-Pairs log-likelihoods (the task is
  crows_pairs_english's rule on a local CSV: empty context, both sentences as the choices,
  target delimiter "");
- tests/probes/goldens/bbq_lmeval.json: lm-eval's own ``bbq_multiple_choice`` task (its YAML
  included by absolute path from the installed package, so its utils.py runs unchanged) on a
  local synthetic BBQ slice: the 12 choices' log-likelihoods per item, lm-eval's per-item
  metrics and its aggregates;
- tests/probes/goldens/winogender_lmeval.json: lm-eval's own ``winogender_all``, its three
  gender variants and its three gotcha variants (each YAML included the same way) on local JSON
  with the Hugging Face dataset's columns, ``all`` and ``gotcha`` configs written by
  winogender_synthetic.py: both referents' log-likelihoods per sentence, lm-eval's argmax and
  acc, the gotcha task's sentids and every task's acc. All seven run in one lm-eval call.

The model, tokenizer and synthetic data come from the very code the tests use
(tests/probes/tiny_model.py, crows_synthetic.py, bbq_synthetic.py, winogender_synthetic.py),
built in a temporary folder with this interpreter (pellucid's .venv). lm-eval runs offline
in its own venv, so pellucid's test environment never needs it:

    python3.11 -m venv bench/.venv-lmeval
    bench/.venv-lmeval/bin/pip install torch==2.13.0 "lm-eval[hf]==0.4.13"
    .venv/bin/python scripts/make_lmeval_goldens.py [--suite crows|bbq|winogender|all]

Each task runs with --log_samples; each sample's ``filtered_resps`` holds (log-likelihood,
is_greedy) per choice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "probes"))

import bbq_synthetic  # noqa: E402
import crows_synthetic  # noqa: E402
import tiny_model  # noqa: E402
import winogender_synthetic  # noqa: E402

GOLDENS = ROOT / "tests" / "probes" / "goldens"
LMEVAL_VENV = ROOT / "bench" / ".venv-lmeval"
CROWS_TASK = "crows_pairs_local"
CROWS_YAML = """\
task: {task}
dataset_path: csv
dataset_kwargs:
  data_files:
    test: {csv}
test_split: test
output_type: multiple_choice
doc_to_text: ""
doc_to_target: 0
doc_to_choice: !function utils.doc_to_choice
target_delimiter: ""
process_results: !function utils.process_results
metric_list:
  - metric: likelihood_diff
    aggregation: mean
    higher_is_better: false
  - metric: pct_stereotype
    aggregation: mean
    higher_is_better: false
"""
# the same functions as lm_eval/tasks/crows_pairs/utils.py
CROWS_UTILS = """\
def doc_to_choice(doc):
    return [doc["sent_more"], doc["sent_less"]]


def process_results(doc, results):
    lls, _ = zip(*results)
    likelihood1, likelihood2 = lls
    diff = abs(likelihood1 - likelihood2)
    acc = 1.0 if likelihood1 > likelihood2 else 0.0
    return {"likelihood_diff": diff, "pct_stereotype": acc}
"""
BBQ_TASK = "bbq_local"
# lm-eval's own task (BBQ's, and each winogender one); only the data source changes (its
# !function tags resolve next to the included YAML, i.e. the installed utils.py). JSON is a
# YAML subset, so the list of files is written with json.dumps.
BBQ_YAML = """\
include: {installed}
task: {task}
tag: []
dataset_path: json
dataset_name: null
dataset_kwargs:
  data_files:
    test: {files}
"""
# lm-eval's own winogender tasks, each on local JSON (the gender filters of utils.py run
# unchanged). No name is another's prefix followed by "_", so each samples file is found.
WINOGENDER_TASKS = {  # local task -> (installed YAML, data: "all" or "gotcha")
    "winogender_local_all": ("winogender.yaml", "all"),
    "winogender_local_male": ("winogender_male.yaml", "all"),
    "winogender_local_female": ("winogender_female.yaml", "all"),
    "winogender_local_neutral": ("winogender_neutral.yaml", "all"),
    "winogender_local_gotcha_all": ("winogender_gotcha.yaml", "gotcha"),
    "winogender_local_gotcha_male": ("winogender_gotcha_male.yaml", "gotcha"),
    "winogender_local_gotcha_female": ("winogender_gotcha_female.yaml", "gotcha"),
}
VERSIONS = (
    "import json, platform; from importlib.metadata import version; print(json.dumps("
    "{'lm_eval': version('lm_eval'), 'torch': version('torch'), "
    "'transformers': version('transformers'), 'datasets': version('datasets'), "
    "'numpy': version('numpy'), 'python': platform.python_version()}))"
)
LMEVAL_DIR = "import lm_eval, pathlib; print(pathlib.Path(lm_eval.__file__).parent)"
Golden = dict[str, Any]


def run_lmeval(
    venv: Path, model: Path, task: str, tasks: Path, work: Path, batch_size: int = 16
) -> tuple[Path, Path]:
    """Run lm-eval offline on the task defined in folder ``tasks``; (samples JSONL, results
    JSON)."""
    samples, results = run_lmeval_tasks(venv, model, [task], tasks, work, batch_size)
    return samples[task], results


def run_lmeval_tasks(
    venv: Path, model: Path, names: list[str], tasks: Path, work: Path, batch_size: int = 16
) -> tuple[dict[str, Path], Path]:
    """Run lm-eval offline once on several tasks defined in folder ``tasks``; (samples JSONL
    per task, results JSON)."""
    out = work / f"out-{names[0]}"
    env = os.environ | {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(work / "hf-home"),  # the local data's dataset cache stays in the temp folder
    }
    command = _command(venv, model, ",".join(names), tasks, batch_size)
    subprocess.run([*command, "--output_path", str(out)], env=env, check=True)
    samples = {}
    for name in names:
        [samples[name]] = out.rglob(f"samples_{name}_*.jsonl")
    [results] = out.rglob("results_*.json")
    return samples, results


def _command(venv: Path, model: Path, task: str, tasks: Path, batch_size: int = 16) -> list[str]:
    return [
        str(venv / "bin" / "lm_eval"),
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype=float32",
        "--include_path",
        str(tasks),
        "--tasks",
        task,
        "--device",
        "cpu",
        "--batch_size",
        str(batch_size),
        "--log_samples",
    ]


def header(venv: Path, model: Path, task: str) -> Golden:
    """What every golden records: lm-eval's versions, the model's build and the command."""
    python = str(venv / "bin" / "python")
    done = subprocess.run([python, "-c", VERSIONS], check=True, capture_output=True)
    shown = _command(Path("<venv>"), Path("<tiny model>"), task, Path("<task dir>"))
    return {
        "tool_versions": json.loads(done.stdout),
        "model_built_with": {
            "torch": version("torch"),
            "transformers": version("transformers"),
            "tokenizers": version("tokenizers"),
            "python": platform.python_version(),
        },
        "model_fingerprint": crows_synthetic.model_fingerprint(model),
        "command": " ".join(["lm_eval", *shown[1:]]),
    }


def read_samples(samples: Path) -> list[dict[str, Any]]:
    """lm-eval's logged samples in document order."""
    rows = [json.loads(line) for line in samples.read_text().splitlines() if line.strip()]
    return sorted(rows, key=lambda row: row["doc_id"])


def crows_golden(venv: Path, model: Path, work: Path) -> Golden:
    """CrowS-Pairs: (id, ll_more, ll_less) per pair and the two metrics."""
    csv_path = crows_synthetic.write_csv(work / "crows-data")
    return header(venv, model, CROWS_TASK) | crows_lmeval(venv, model, csv_path, work)


def crows_lmeval(
    venv: Path, model: Path, csv_path: Path, work: Path, batch_size: int = 16
) -> Golden:
    """lm-eval's CrowS-Pairs rule on the CSV ``csv_path`` (upstream's columns): metrics, and
    (id, ll_more, ll_less) per pair. Also used by bench/probes.py."""
    tasks = work / "crows-task"
    tasks.mkdir()
    (tasks / f"{CROWS_TASK}.yaml").write_text(CROWS_YAML.format(task=CROWS_TASK, csv=csv_path))
    (tasks / "utils.py").write_text(CROWS_UTILS)
    samples, results = run_lmeval(venv, model, CROWS_TASK, tasks, work, batch_size)
    metrics = json.loads(results.read_text())["results"][CROWS_TASK]
    items = []
    for row in read_samples(samples):
        (more, _), (less, _) = row["filtered_resps"]
        items.append({"id": str(row["doc"]["id"]), "ll_more": float(more), "ll_less": float(less)})
    return {
        "metrics": {
            "pct_stereotype": metrics["pct_stereotype,none"],
            "likelihood_diff": metrics["likelihood_diff,none"],
        },
        "items": items,
    }


def bbq_golden(venv: Path, model: Path, work: Path) -> Golden:
    """BBQ through lm-eval's bbq_multiple_choice: per item the 12 choices and their
    log-likelihoods, lm-eval's argmax, target(s) and per-item metrics; every aggregate."""
    files = bbq_synthetic.write_data(work / "bbq-data")
    done = subprocess.run([str(venv / "bin" / "python"), "-c", LMEVAL_DIR], check=True,
                          capture_output=True, text=True)  # fmt: skip
    installed = Path(done.stdout.strip()) / "tasks" / "bbq" / "bbq_multiple_choice.yaml"
    tasks = work / "bbq-task"
    tasks.mkdir()
    text = BBQ_YAML.format(
        installed=installed, task=BBQ_TASK, files=json.dumps(list(map(str, files)))
    )
    (tasks / f"{BBQ_TASK}.yaml").write_text(text)
    samples, results = run_lmeval(venv, model, BBQ_TASK, tasks, work)
    metrics = json.loads(results.read_text())["results"][BBQ_TASK]
    return header(venv, model, BBQ_TASK) | {
        "task_yaml": text.replace(
            str(installed), "<lm_eval>/tasks/bbq/bbq_multiple_choice.yaml"
        ).replace(str(files[0].parent), "<data>/bbq"),
        "metrics": {
            k.removesuffix(",none"): v
            for k, v in metrics.items()
            if k.endswith(",none") and not _is_nan(v)
        },
        "items": [_bbq_item(row) for row in read_samples(samples)],
    }


def _bbq_item(row: dict[str, Any]) -> dict[str, Any]:
    doc = row["doc"]
    lls = [float(ll) for ll, _ in row["filtered_resps"]]
    # the logged tuple is (acc, n_biased_ans, n_non_unk_ans, mask); lm-eval logs the mask
    # (a numpy bool) as the string "True"/"False", so the condition is taken from the doc
    _, n_biased, n_non_unknown, _ = row["disamb_bias_score"]
    return {
        "example_id": doc["example_id"],
        "category": doc["category"],
        "condition": doc["context_condition"],
        "polarity": doc["question_polarity"],
        "choices": [arguments[1].removeprefix(" ") for arguments in _arguments(row)],
        "lls": lls,
        "chosen": max(range(len(lls)), key=lambda i: (lls[i], -i)),  # np.argmax: first maximum
        "target": int(row["target"]),  # doc_to_target: the first of doc_to_targets
        "biased_answers": doc["biased_answers"],
        "acc": row["acc"],
        "n_biased_ans": n_biased,
        "n_non_unk_ans": n_non_unknown,
    }


def winogender_golden(venv: Path, model: Path, work: Path) -> Golden:
    """Winogender through lm-eval's winogender_all (plus its gender and gotcha variants, the
    HF configs swapped for local JSON): per sentence both referents' log-likelihoods, lm-eval's
    argmax and acc; the sentids in the gotcha task; every task's acc."""
    paths = dict(
        zip(("all", "gotcha"), winogender_synthetic.write_hf(work / "wg-data"), strict=True)
    )
    done = subprocess.run([str(venv / "bin" / "python"), "-c", LMEVAL_DIR], check=True,
                          capture_output=True, text=True)  # fmt: skip
    installed = Path(done.stdout.strip()) / "tasks" / "winogender"
    tasks = work / "wg-task"
    tasks.mkdir()
    yamls = {}
    for name, (included, data) in WINOGENDER_TASKS.items():
        text = BBQ_YAML.format(
            installed=installed / included, task=name, files=json.dumps([str(paths[data])])
        )
        (tasks / f"{name}.yaml").write_text(text)
        yamls[name] = text.replace(str(installed), "<lm_eval>/tasks/winogender").replace(
            str(paths[data].parent), "<data>"
        )
    samples, results = run_lmeval_tasks(venv, model, list(WINOGENDER_TASKS), tasks, work)
    metrics = json.loads(results.read_text())["results"]
    rows = {name: read_samples(path) for name, path in samples.items()}
    return header(venv, model, ",".join(WINOGENDER_TASKS)) | {
        "task_yaml": yamls,
        "metrics": {
            name: {"acc": metrics[name]["acc,none"], "n": len(rows[name])}
            for name in WINOGENDER_TASKS
        },
        "gotcha_sentids": [row["doc"]["sentid"] for row in rows["winogender_local_gotcha_all"]],
        "items": [_winogender_item(row) for row in rows["winogender_local_all"]],
    }


def _winogender_item(row: dict[str, Any]) -> dict[str, Any]:
    doc = row["doc"]
    lls = [float(ll) for ll, _ in row["filtered_resps"]]
    [(context, first), (_, second)] = _arguments(row)
    return {
        "sentid": doc["sentid"],
        "gender": doc["gender"],
        "context": context,
        "choices": [first.removeprefix(" "), second.removeprefix(" ")],
        "lls": lls,
        "chosen": max(range(len(lls)), key=lambda i: (lls[i], -i)),  # np.argmax: first maximum
        "target": int(row["target"]),
        "acc": row["acc"],
    }


def _arguments(row: dict[str, Any]) -> list[list[str]]:
    """Each request's (context, continuation), as lm-eval logged it."""
    args = row["arguments"]
    return [
        list(a.values()) if isinstance(a, dict) else a
        for a in (args.values() if isinstance(args, dict) else args)
    ]


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


SUITES: dict[str, tuple[str, Callable[[Path, Path, Path], Golden]]] = {
    "crows": ("crows_lmeval.json", crows_golden),
    "bbq": ("bbq_lmeval.json", bbq_golden),
    "winogender": ("winogender_lmeval.json", winogender_golden),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=LMEVAL_VENV, help="lm-eval's venv")
    parser.add_argument("--out-dir", type=Path, default=GOLDENS)
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all")
    args = parser.parse_args()
    chosen = list(SUITES) if args.suite == "all" else [args.suite]
    with tempfile.TemporaryDirectory(prefix="lmeval-goldens-") as tmp:
        work = Path(tmp)
        model = tiny_model.build(work / "model")
        for suite in chosen:
            name, make = SUITES[suite]
            golden = make(args.venv, model, work)
            args.out_dir.mkdir(parents=True, exist_ok=True)
            (args.out_dir / name).write_text(json.dumps(golden, indent=1) + "\n")
            print(f"wrote {args.out_dir / name}: {len(golden['items'])} items")


if __name__ == "__main__":
    main()
