"""Where ``pellucid data fetch`` gets each dataset: repository, commit and files.

Files are read from the repository at the commit named in the research behind the probes
(docs/probes.md), so the bytes cannot change under the same URL. The byte sizes recorded at
that commit are checked on download, and so is the SHA-256 where one is pinned (XSTest's, below;
the upstream hosts were unreachable when this table was written, so the others are not): the
digest of every file fetched is recorded in a manifest beside the data, checked on every later
use, and reported with every figure.
HarmBench was not inspected at a commit: it is read from its default branch and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

RAW = "https://raw.githubusercontent.com"

_BBQ_CATEGORIES = (
    "Age",
    "Disability_status",
    "Gender_identity",
    "Nationality",
    "Physical_appearance",
    "Race_ethnicity",
    "Race_x_SES",
    "Race_x_gender",
    "Religion",
    "SES",
    "Sexual_orientation",
)
_SEAT_TESTS = (
    *(f"sent-weat{n}" for n in ("1", "2", "3", "3b", "4", "5", "5b", "6", "6b", "7", "7b")),
    *(f"sent-weat{n}" for n in ("8", "8b", "9", "10")),
    "sent-angry_black_woman_stereotype",
    "sent-angry_black_woman_stereotype_b",
)
_TOXIGEN_GROUPS = (
    "asian",
    "bisexual",
    "black",
    "chinese",
    "immigrant",
    "jewish",
    "latino",
    "lgbtq",
    "mental_disability",
    "mexican",
    "middle_east",
    "muslim",
    "native_american",
    "physical_disability",
    "women",
)


@dataclass(frozen=True, slots=True)
class Source:
    """One dataset's files in a GitHub repository at one commit."""

    repo: str  # owner/name
    commit: str  # a commit id; a branch name only where no commit was inspected (pinned=False)
    files: Mapping[str, str]  # path in the --data-dir layout -> path in the repository
    sizes: Mapping[str, int] = field(default_factory=dict)  # layout path -> bytes at commit
    sha256: Mapping[str, str] = field(default_factory=dict)  # layout path -> pinned digest
    pinned: bool = True

    def url(self, local: str, mirror: str | None = None) -> str:
        """Where ``local`` is downloaded from: the mirror's copy in the layout, else upstream."""
        if mirror:
            return f"{mirror.rstrip('/')}/{local}"
        return f"{RAW}/{self.repo}/{self.commit}/{self.files[local]}"


SOURCES: dict[str, Source] = {
    "crows-pairs": Source(
        "nyu-mll/crows-pairs",
        "8aaac11c",
        {"crows_pairs_anonymized.csv": "data/crows_pairs_anonymized.csv"},
        sizes={"crows_pairs_anonymized.csv": 437_764},
    ),
    "bbq": Source(
        "nyu-mll/BBQ",
        "bea11bd9",
        {f"bbq/{c}.jsonl": f"data/{c}.jsonl" for c in _BBQ_CATEGORIES},
    ),
    "winogender": Source(
        "rudinger/winogender-schemas",
        "1c7f8b48",
        {
            "winogender/all_sentences.tsv": "data/all_sentences.tsv",
            "winogender/occupations-stats.tsv": "data/occupations-stats.tsv",
        },
        sizes={"winogender/all_sentences.tsv": 83_644},
    ),
    "winobias": Source(
        "uclanlp/corefBias",
        "0bce984d",
        {
            f"winobias/{kind}_stereotyped_type{n}.txt.test": (
                f"WinoBias/wino/data/{kind}_stereotyped_type{n}.txt.test"
            )
            for kind in ("pro", "anti")
            for n in (1, 2)
        },
    ),
    "holistic-bias": Source(
        "facebookresearch/ResponsibleNLP",
        "0ec714eb",
        {
            f"holistic_bias/{stem}.json": f"holistic_bias/dataset/v1.1/{stem}.json"
            for stem in ("descriptors", "nouns", "sentence_templates")
        },
    ),
    "seat": Source(
        "W4ngatang/sent-bias",
        "e3559fb6",
        {f"seat/{test}.jsonl": f"tests/{test}.jsonl" for test in _SEAT_TESTS},
    ),
    "xstest": Source(
        "paul-rottger/exaggerated-safety",
        # The one digest pinned so far: the file at this commit, read from a stored copy of the
        # repository, has the size the research recorded at d7bb5bd7 (38,719 bytes: 450 prompts,
        # one non-ASCII character); the other stored copies either differ in size from what the
        # research recorded (CrowS-Pairs: a later revision) or have no recorded size to check.
        "475f10bf0a3d6a9dfb174b6de1a38afbfdff98a5",
        {"xstest_prompts.csv": "xstest_prompts.csv"},
        sizes={"xstest_prompts.csv": 38_719},
        sha256={
            "xstest_prompts.csv": (
                "11783fb294ed017473ee53c207d71f2161c7672c8d0b037501e78387f801cb5a"
            )
        },
    ),
    "harmbench-refusal": Source(
        "centerforaisafety/HarmBench",
        "main",
        {
            "harmbench_behaviors_text_all.csv": (
                "data/behavior_datasets/harmbench_behaviors_text_all.csv"
            )
        },
        pinned=False,
    ),
    "decodingtrust-stereotype": Source(
        "AI-secure/DecodingTrust",
        "161ae832",
        {
            f"decodingtrust/{stem}.csv": f"data/stereotype/dataset/{stem}.csv"
            for stem in ("user_prompts", "system_prompts")
        },
    ),
    "toxigen-prompts": Source(
        "microsoft/TOXIGEN",
        "01517e81",
        {
            f"toxigen/prompts/{kind}_{group}_1k.txt": f"prompts/{kind}_{group}_1k.txt"
            for kind in ("hate", "neutral")
            for group in _TOXIGEN_GROUPS
        },
    ),
}
