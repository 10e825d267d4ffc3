"""Licence text variants for the matcher tests, built at test time from ScanCode's texts.

Nothing here is a licence text: only the edits that turn one published text into a variant
(reformatting, an added clause, the documented Llama 3 wording).
"""

from __future__ import annotations

import random
import re
import textwrap

# Differences between the Meta Llama 3 (2024-04-18) and Llama 3.1 (2024-07-23) community
# licences, as listed in the reference notes (openness-licensing.md §2.3): title and version
# line, "Meta Llama 3" as the product name, "Built with Meta Llama 3", derived names starting
# with "Llama 3" (for models made with the materials, not their outputs), the Llama 3 use
# policy URL, and clause 1.b.v forbidding the improvement of other large language models.
LLAMA_3_EDITS: tuple[tuple[str, str], ...] = (
    ("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT", "META LLAMA 3 COMMUNITY LICENSE AGREEMENT"),
    (
        "Llama 3.1 Version Release Date: July 23, 2024",
        "Meta Llama 3 Version Release Date: April 18, 2024",
    ),
    ("“Built with Llama”", "“Built with Meta Llama 3”"),
    ("include “Llama” at the beginning", "include “Llama 3” at the beginning"),
    (
        "If you use the Llama Materials or any outputs or results of the Llama Materials to create",
        "If you use the Llama Materials to create",
    ),
    ("license to use “Llama” (the “Mark”)", "license to use “Llama 3” (the “Mark”)"),
    ("llama3_1/use-policy", "llama3/use-policy"),
    ("Llama 3.1", "Meta Llama 3"),
)
LLAMA_3_CLAUSE = (
    "\n          v. You will not use the Llama Materials or any output or results of the Llama "
    "Materials to improve any other large language model (excluding Meta Llama 3 or "
    "derivative works thereof).\n"
)
# An extra clause of the kind re-licensors add (ScanCode issue #5130, the Latxa derivative).
ADDED_CLAUSE = (
    "\n          v. Any model trained from these materials must be evaluated by an independent "
    "review board in the Basque Country before any public deployment, and the results of "
    "that evaluation shall be published together with the weights of the derived model, "
    "including the full list of benchmarks, prompts and refusal rates observed.\n"
)
README = """# tiny-llm

A small language model fine-tuned for summarisation. Install the requirements, download the
weights and run `python generate.py --prompt "Hello"`. The model was trained for three epochs
on a single GPU with a learning rate of 2e-5 and a batch size of 16. See the model card for
evaluation results, known limitations and the intended uses. Contributions are welcome:
open an issue or a pull request on the repository.
"""


def reconstruct_llama_3(llama_31: str) -> str:
    """The Meta Llama 3 licence, RECONSTRUCTED from the Llama 3.1 text by the documented edits
    (ScanCode 32.5.0 has no Llama 3 text to test with)."""
    text = llama_31
    for old, new in LLAMA_3_EDITS:
        assert old in text, old
        text = text.replace(old, new)
    anchor = "which is hereby incorporated by reference into this Agreement."
    return text.replace(anchor, anchor + LLAMA_3_CLAUSE, 1)


def insert_after_clause_iv(text: str, clause: str) -> str:
    anchor = "which is hereby incorporated by reference into this Agreement."
    assert anchor in text
    return text.replace(anchor, anchor + clause, 1)


def as_markdown(text: str) -> str:
    """The same text as a model card would carry it: a heading, smart quotes and dashes,
    bold list labels, URLs as markdown links, paragraphs re-wrapped at 60 columns."""
    text = re.sub(r'"([^"\n]*)"', "“\\1”", text).replace("'", "’").replace(" - ", " – ")
    text = re.sub(r"(https?://[^\s)<>\]]+[^\s)<>\].,;])", r"[\1](\1)", text)
    out = ["# License", ""]
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        if not flat:
            continue
        flat = re.sub(r"^(\d+\.|[a-z]\.|[ivx]+\.)\s+(\w+)", r"- **\1** \2", flat)
        out.append(textwrap.fill(flat, width=60, break_long_words=False, break_on_hyphens=False))
        out.append("")
    return "\n".join(out)


def random_words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    vocabulary = [
        "the",
        "license",
        "model",
        "data",
        "use",
        "any",
        "shall",
        "you",
        "may",
        "not",
        "of",
        "to",
        "in",
        "and",
        "or",
        "weights",
    ]
    vocabulary += [f"w{i}" for i in range(200)]
    words = [rng.choice(vocabulary) for _ in range(count)]
    return "\n".join(" ".join(words[i : i + 12]) for i in range(0, count, 12))
