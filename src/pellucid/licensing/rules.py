"""Rules of the licence assessment (PCL-LIC-010 and up; 001-009 belong to the knowledge base).

Licence findings are not security findings: none of them blocks by default. A card that
misstates its licence is MEDIUM, because whoever relies on the card takes on obligations it
does not mention; gaps in the evidence are LOW; differences that are allowed but must be known
are INFO.
"""

from __future__ import annotations

from pellucid.model import Confidence, Rule, Severity

HF_LICENSES = "https://huggingface.co/docs/hub/repositories-licenses"
HF_CARD_SPEC = "https://github.com/huggingface/hub-docs/blob/main/modelcard.md"
LLAMA_31 = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/LICENSE"
LLAMA_3 = "https://github.com/meta-llama/llama3/blob/main/LICENSE"
SCANCODE_LATXA = "https://github.com/aboutcode-org/scancode-toolkit/issues/5130"
OPENRAIL = "https://www.licenses.ai/blog/2022/8/18/naming-convention-of-responsible-ai-licenses"
GEMMA_TERMS = "https://ai.google.dev/gemma/terms"

CARD_CONTRADICTS_TEXT = Rule(
    id="PCL-LIC-010",
    title="Model card names a different licence than the licence text",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The licence declared in the card metadata (or in GGUF / safetensors metadata) is not "
        "the licence whose text ships with the weights, e.g. `license: mit` over the Llama 3.1 "
        "Community License. Hubs, catalogues and SBOM tools read the declared id, so users "
        "believe they have permissions the real terms do not give."
    ),
    remediation=(
        "Treat the shipped licence text as binding until the publisher corrects the card; "
        "ask them which licence applies."
    ),
    references=(LLAMA_3, HF_LICENSES),
)
STATEMENTS_DISAGREE = Rule(
    id="PCL-LIC-011",
    title="Licence statements of the weights disagree",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "Two metadata statements about the licence of the same weights (card, GGUF "
        "general.license, safetensors metadata, config.json) name different licences and no "
        "licence text settles which one holds. One of them is wrong, and tools that read "
        "only one of them report different terms."
    ),
    remediation="Find out which licence the publisher grants; add the licence text to the folder.",
    references=(HF_CARD_SPEC,),
    confidence=Confidence.MEDIUM,
)
TEXT_MODIFIED = Rule(
    id="PCL-LIC-012",
    title="Licence text differs from the known text",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "A licence file is recognised but its wording differs from the published text: "
        "clauses were added, removed or changed. Re-licensors of derivatives have added "
        "clauses to the Llama 3.1 text under its original title, so the title alone says "
        "nothing about the terms."
    ),
    remediation="Read the differing passage and treat the file as a distinct licence.",
    references=(SCANCODE_LATXA,),
    confidence=Confidence.MEDIUM,
)
SCOPES_DIFFER = Rule(
    id="PCL-LIC-013",
    title="Weights, code and data are under different licences",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "The folder licenses its parts differently, e.g. code under MIT and weights under a "
        "model licence. That is allowed, but the permissive licence of the code says nothing "
        "about what may be done with the weights."
    ),
    remediation="Apply each licence to its own part; the weights licence governs the model.",
    references=(HF_LICENSES,),
)
OTHER_WITHOUT_NAME = Rule(
    id="PCL-LIC-014",
    title="Card declares `license: other` without naming the licence",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "`license: other` means a licence outside the Hub's list; the card must then give "
        "`license_name` and `license_link`. Without them nobody, human or tool, can tell "
        "which terms apply."
    ),
    remediation="Ask the publisher for the licence; do not assume any terms.",
    references=(HF_CARD_SPEC,),
)
UNKNOWN_ID = Rule(
    id="PCL-LIC-015",
    title="Licence identifier not recognised",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "A licence identifier or name in the metadata matches no licence pellucid knows, "
        "under any HF, SPDX or ScanCode spelling. pellucid does not guess: the terms are "
        "unknown until someone reads the licence."
    ),
    remediation="Find the licence text the identifier refers to and review it.",
    references=(HF_LICENSES, "https://spdx.org/licenses/"),
    confidence=Confidence.MEDIUM,
)
UNKNOWN_TEXT = Rule(
    id="PCL-LIC-016",
    title="Licence text not recognised",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "A licence file matches none of the known licence texts closely enough. It may be a "
        "bespoke licence, a heavily edited known one, or not a licence at all; its terms are "
        "unknown until someone reads it."
    ),
    remediation="Have the file reviewed; do not assume it grants anything.",
    references=("https://scancode-licensedb.aboutcode.org/",),
    confidence=Confidence.MEDIUM,
)
CARD_YAML_BROKEN = Rule(
    id="PCL-LIC-017",
    title="Model card front matter is not valid YAML",
    severity=Severity.LOW,
    cwe=20,
    description=(
        "The YAML metadata of the card cannot be parsed, so the Hub and tools that read it see "
        "no licence, base model or datasets. pellucid read the licence keys line by line and "
        "assessed the rest of the folder."
    ),
    remediation="Fix the front matter; check that the licence keys say what the author meant.",
    references=(HF_CARD_SPEC,),
)
FILE_UNREADABLE = Rule(
    id="PCL-LIC-018",
    title="Licence file is too large or not text",
    severity=Severity.LOW,
    cwe=400,
    description=(
        "A file named like a licence is binary or far larger than any licence text, so it was "
        "not read. Licence files are plain text of at most a few hundred kilobytes; anything "
        "else under that name hides either the licence or something that is not one."
    ),
    remediation="Inspect the file by hand; obtain the real licence text from the publisher.",
)
NO_LICENSE = Rule(
    id="PCL-LIC-019",
    title="No licence found for the weights",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "Nothing in the folder (card, licence files, GGUF or safetensors metadata, configs) "
        "states a licence for the weights. Without a licence, copyright law leaves no right "
        "to use, copy or modify them."
    ),
    remediation="Obtain the licence from the publisher before using or redistributing the model.",
    references=(HF_LICENSES,),
)
LLAMA_NAMING = Rule(
    id="PCL-LIC-020",
    title="Llama derivative not named as the licence requires",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The Llama 3.1 and later licences require a model built from Llama materials to "
        'carry a name beginning with "Llama"; Llama 3 requires "Llama 3". A derivative '
        "distributed under another name breaches the base model's licence, and its users "
        "inherit the problem."
    ),
    remediation="Rename the model so that it begins with the required word, or do not use it.",
    references=(LLAMA_31, LLAMA_3),
)
LLAMA_NOTICE = Rule(
    id="PCL-LIC-021",
    title='"Built with Llama" notice missing',
    severity=Severity.LOW,
    cwe=None,
    description=(
        'Redistributing a Llama 3 or later model or derivative requires displaying "Built '
        'with Llama" (Llama 3: "Built with Meta Llama 3") prominently, e.g. in the model '
        "card. This folder redistributes weights and its card shows no such notice."
    ),
    remediation="Add the notice to the card and to any product documentation.",
    references=(LLAMA_31,),
    confidence=Confidence.MEDIUM,
)
RESTRICTIONS_DROPPED = Rule(
    id="PCL-LIC-022",
    title="Derivative drops the use restrictions of its base model",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The base model's licence (OpenRAIL family, Gemma, Llama and others) makes its use "
        "restrictions or agreement flow down to every derivative, yet this derivative is "
        "offered under a licence without them. The restrictions still bind its users; the "
        "permissive label is not the publisher's to give."
    ),
    remediation="Treat the base model's licence as binding for this model as well.",
    references=(OPENRAIL, GEMMA_TERMS),
)
NONCOMMERCIAL_CLAIM = Rule(
    id="PCL-LIC-023",
    title="Card claims commercial use under a non-commercial licence",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The card says the model may be used commercially, but a licence of the model or of "
        "a base model it derives from forbids commercial use. The most restrictive licence "
        "in the chain decides."
    ),
    remediation="Do not use the model commercially without a licence from the base model's owner.",
    references=(HF_LICENSES,),
    confidence=Confidence.MEDIUM,
)
LICENSE_RULES: tuple[Rule, ...] = (
    CARD_CONTRADICTS_TEXT,
    STATEMENTS_DISAGREE,
    TEXT_MODIFIED,
    SCOPES_DIFFER,
    OTHER_WITHOUT_NAME,
    UNKNOWN_ID,
    UNKNOWN_TEXT,
    CARD_YAML_BROKEN,
    FILE_UNREADABLE,
    NO_LICENSE,
    LLAMA_NAMING,
    LLAMA_NOTICE,
    RESTRICTIONS_DROPPED,
    NONCOMMERCIAL_CLAIM,
)
