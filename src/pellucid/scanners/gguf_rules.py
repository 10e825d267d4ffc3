"""The rules of the GGUF scanner and the problem kinds of ``formats/gguf*.py`` they cover."""

from __future__ import annotations

from pellucid.model import Rule, Severity

_SPEC = "https://github.com/ggml-org/ggml/blob/master/docs/gguf.md"
_DATABRICKS = "https://www.databricks.com/blog/ggml-gguf-file-format-vulnerabilities"
_PARSER_CVES = (
    _DATABRICKS,
    "https://nvd.nist.gov/vuln/detail/CVE-2026-33298",
    "https://github.com/advisories/GHSA-96jg-mvhq-q7q7",
    "https://nvd.nist.gov/vuln/detail/CVE-2026-7482",
)
_REBUILD = (
    "Do not load the file. Re-download it from the publisher, or convert the model again with "
    "llama.cpp's convert scripts."
)

BAD_VERSION = Rule(
    id="PCL-GGF-001",
    title="Unsupported GGUF version",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "The version field is not 1, 2 or 3, so the layout of everything after it is unknown "
        "and the file was not examined further. Loaders reject such files, but a reader that "
        "guesses the layout can be steered by it."
    ),
    remediation=_REBUILD,
    references=(_SPEC,),
)
TRUNCATED = Rule(
    id="PCL-GGF-002",
    title="GGUF header is truncated",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "The file ends in the middle of the header, the metadata or the tensor infos. Loaders "
        "fail on it; what follows the cut was not examined, so the file is incomplete."
    ),
    remediation=_REBUILD,
    references=(_SPEC,),
)
SIZE_BEYOND_FILE = Rule(
    id="PCL-GGF-003",
    title="GGUF count or length larger than the file",
    severity=Severity.HIGH,
    cwe=789,
    description=(
        "A tensor count, metadata count, string length or array length claims more bytes than "
        "the file holds, or overflows when multiplied by its element size. Such values are how "
        "crafted GGUF files made ggml allocate huge buffers, overflow size computations and "
        "read or write out of bounds."
    ),
    remediation=_REBUILD,
    references=_PARSER_CVES,
)
BAD_VALUE_TYPE = Rule(
    id="PCL-GGF-004",
    title="Invalid GGUF metadata value type",
    severity=Severity.MEDIUM,
    cwe=843,
    description=(
        "A metadata value has a type GGUF does not define, arrays are nested too deeply, or a "
        "well-known key has the wrong type. Readers disagree on such values, and ggml's typed "
        "getters abort the process when the type is not the expected one."
    ),
    remediation=_REBUILD,
    references=(_SPEC, _DATABRICKS),
)
DUPLICATE = Rule(
    id="PCL-GGF-005",
    title="Duplicate GGUF metadata key or tensor name",
    severity=Severity.MEDIUM,
    cwe=694,
    description=(
        "The same metadata key or tensor name appears twice. Some readers keep the first, "
        "others the last, so a reviewer and a loader can see different chat templates or "
        "weights in the same file."
    ),
    remediation=_REBUILD,
    references=(_SPEC,),
)
BAD_ALIGNMENT = Rule(
    id="PCL-GGF-006",
    title="Invalid general.alignment",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "general.alignment is not a UINT32 power of two. ggml aborts on a wrong type and "
        "computes tensor offsets from the value, so a bad one shifts every tensor; pellucid "
        "checks the layout with the default alignment of 32 instead."
    ),
    remediation=_REBUILD,
    references=(_SPEC,),
)
TENSOR_LIMITS = Rule(
    id="PCL-GGF-007",
    title="Tensor info exceeds ggml's fixed limits",
    severity=Severity.HIGH,
    cwe=787,
    description=(
        "A tensor has more than GGML_MAX_DIMS (4) dimensions or a name of 64 bytes or more. "
        "ggml keeps both in fixed-size arrays; older versions copied them without checking "
        "and wrote past the end."
    ),
    remediation=_REBUILD,
    references=_PARSER_CVES,
)
BAD_DIMENSIONS = Rule(
    id="PCL-GGF-008",
    title="Tensor dimensions invalid or overflowing",
    severity=Severity.HIGH,
    cwe=190,
    description=(
        "A dimension is zero or beyond int64, or the element count or byte size of a tensor "
        "overflows int64. Size computations in the loader then wrap around, allocating too "
        "little and copying too much."
    ),
    remediation=_REBUILD,
    references=_PARSER_CVES,
)
UNKNOWN_TYPE = Rule(
    id="PCL-GGF-009",
    title="Unknown ggml tensor type",
    severity=Severity.HIGH,
    cwe=129,
    description=(
        "A tensor's type id is not one ggml defines (or was removed from it). The id indexes "
        "ggml's table of type traits; loaders that did not check it read outside the table. "
        "Removed types (MEDIUM) are old files that current loaders refuse."
    ),
    remediation=_REBUILD,
    references=_PARSER_CVES,
)
BLOCK_MISMATCH = Rule(
    id="PCL-GGF-010",
    title="Tensor row is not a whole number of quantization blocks",
    severity=Severity.HIGH,
    cwe=131,
    description=(
        "The first dimension of a quantized tensor is not a multiple of its type's block "
        "size. Byte sizes computed by integer division are then too small for the rows the "
        "kernels process, the heap overflow behind CVE-2026-33298."
    ),
    remediation=_REBUILD,
    references=_PARSER_CVES,
)
MISALIGNED = Rule(
    id="PCL-GGF-011",
    title="Tensor data offset not aligned",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "A tensor's data offset is not a multiple of the file's alignment. ggml rejects the "
        "file; other readers map the tensor at an unaligned address or round the offset, "
        "reading different bytes than the reviewer saw."
    ),
    remediation=_REBUILD,
    references=(_SPEC,),
)
OUT_OF_BOUNDS = Rule(
    id="PCL-GGF-012",
    title="Tensor data beyond the end of the file",
    severity=Severity.HIGH,
    cwe=125,
    description=(
        "A tensor's data range ends past the end of the file. Loaders that map the file and "
        "trust the offsets read memory beyond the mapping: the out-of-bounds read of "
        "CVE-2026-7482 (Bleeding Llama) leaked process memory this way."
    ),
    remediation=_REBUILD,
    references=_PARSER_CVES,
)
OVERLAP = Rule(
    id="PCL-GGF-013",
    title="Tensor data ranges overlap",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "Two tensors share bytes of the data section. Converters never write this; it lets "
        "one region be read as two tensors of different types, and loaders that lay tensors "
        "out sequentially reject it."
    ),
    remediation=_REBUILD,
    references=(_SPEC,),
)

GGUF_RULES: tuple[Rule, ...] = (
    BAD_VERSION, TRUNCATED, SIZE_BEYOND_FILE, BAD_VALUE_TYPE, DUPLICATE, BAD_ALIGNMENT,
    TENSOR_LIMITS, BAD_DIMENSIONS, UNKNOWN_TYPE, BLOCK_MISMATCH, MISALIGNED, OUT_OF_BOUNDS,
    OVERLAP,
)  # fmt: skip

RULE_BY_KIND: dict[str, Rule] = {
    "bad-version": BAD_VERSION,
    "truncated": TRUNCATED,
    "too-large": SIZE_BEYOND_FILE,
    "bad-value-type": BAD_VALUE_TYPE,
    "duplicate-key": DUPLICATE,
    "duplicate-tensor": DUPLICATE,
    "bad-alignment": BAD_ALIGNMENT,
    "too-many-dims": TENSOR_LIMITS,
    "long-name": TENSOR_LIMITS,
    "bad-dim": BAD_DIMENSIONS,
    "size-overflow": BAD_DIMENSIONS,
    "unknown-type": UNKNOWN_TYPE,
    "removed-type": UNKNOWN_TYPE,
    "block-mismatch": BLOCK_MISMATCH,
    "misaligned": MISALIGNED,
    "out-of-bounds": OUT_OF_BOUNDS,
    "overlap": OVERLAP,
}
