"""Rules of the container scanners (``PCL-ZIP-*`` for zip, ``PCL-ARC-*`` for other archives)."""

from __future__ import annotations

from pellucid.model import Confidence, Rule, Severity

_ZIP_SPEC = "https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT"
_CWE_CONFLICT = "https://cwe.mitre.org/data/definitions/436.html"
_UNZIP_RATIONALE = (
    "Scanners built on Python's zipfile and loaders built on miniz (PyTorch) can see different "
    "files in the same archive, so a scanner may approve bytes that are never loaded while the "
    "loaded bytes go unseen."
)

ZIP_CRC_MISMATCH = Rule(
    id="PCL-ZIP-001",
    title="Zip entry fails its CRC-32 check",
    severity=Severity.MEDIUM,
    cwe=354,
    description=(
        "The CRC-32 recorded for an entry does not match its content. torch.load ignores the "
        "CRC, while Python's zipfile refuses the entry, so scanners built on zipfile skip an "
        "entry that PyTorch loads (CVE-2025-10156). pellucid scans the entry anyway."
    ),
    remediation="Re-save the model with the framework's own writer; treat the file as tampered.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-10156",),
)
ZIP_NAME_MISMATCH = Rule(
    id="PCL-ZIP-002",
    title="Zip local header names a different file",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "The file name in an entry's local header differs from the central directory. PyTorch "
        "reads names from the central directory; Python's zipfile raises on the mismatch, which "
        "made scanners give up on the archive (CVE-2025-1944). " + _UNZIP_RATIONALE
    ),
    remediation="Re-save the model with the framework's own writer; treat the file as tampered.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-1944", _CWE_CONFLICT),
)
ZIP_DUPLICATE_NAMES = Rule(
    id="PCL-ZIP-003",
    title="Several zip entries share a name",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "Two or more entries have the same name (miniz compares names case-insensitively). "
        "torch.load picks one by binary search over a heap-sorted directory, Python's zipfile "
        "takes the last, and a scanner that opens entries by name scans one copy twice. The "
        "finding says which copy each loader reads; pellucid scans every copy."
    ),
    remediation="Remove the extra entries; a legitimate writer never produces them.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2013-4787", _CWE_CONFLICT),
)
ZIP_OVERLAP = Rule(
    id="PCL-ZIP-004",
    title="Zip entries overlap",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "Two entries (or an entry and the central directory) claim the same bytes. Overlap is "
        "how non-recursive zip bombs reach extreme ratios and a way to make one payload "
        "appear under several names."
    ),
    remediation="Rebuild the archive; treat the file as crafted.",
    references=("https://www.bamsoftware.com/hacks/zipbomb/",),
)
ZIP_OUTSIDE_BYTES = Rule(
    id="PCL-ZIP-005",
    title="Bytes outside every zip entry",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "Bytes before the first local header or between entries belong to no entry. Zip "
        "readers skip them, but other loaders do not: torch.load treats a file that does not "
        "start with a local header as a legacy pickle. pellucid scans these bytes as their own "
        "member."
    ),
    remediation="Remove the extra bytes; find out who added them.",
    references=(_ZIP_SPEC,),
)
ZIP_AMBIGUOUS_DIRECTORY = Rule(
    id="PCL-ZIP-006",
    title="Zip central directory is ambiguous",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "The archive has several end-of-central-directory records, a directory that is found "
        "only after adjusting its recorded offset, or an entry count that differs from what the "
        "directory holds. Each lets two readers list different entries. " + _UNZIP_RATIONALE
    ),
    remediation="Rebuild the archive with a standard writer.",
    references=(_ZIP_SPEC, _CWE_CONFLICT),
)
ZIP_ENCRYPTED = Rule(
    id="PCL-ZIP-007",
    title="Encrypted zip entry",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "An entry is encrypted (traditional, strong or AES encryption, or a masked local "
        "header), so its content cannot be examined. Model files have no reason to encrypt "
        "entries; scanners that error out or skip them report the archive as clean."
    ),
    remediation="Obtain an unencrypted copy and scan that.",
    references=("https://github.com/mmaitre314/picklescan/pull/39",),
)
ZIP_FLAGS = Rule(
    id="PCL-ZIP-008",
    title="Zip entry sets the patch-data flag",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "General-purpose flag bit 5 (compressed patch data) is set. Python's zipfile refuses "
        "such entries while other readers ignore the bit; flipping flag bits was used to make "
        "scanners skip a PyTorch archive (CVE-2025-1945)."
    ),
    remediation="Re-save the model with the framework's own writer.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2025-1945",),
)
ZIP_LOCAL_MISMATCH = Rule(
    id="PCL-ZIP-009",
    title="Zip local header disagrees with the central directory",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "An entry's local header is missing, or records another compression method, size, "
        "CRC or encryption flag than the central directory. Readers that walk local headers "
        "and readers that trust the directory then decode different bytes."
    ),
    remediation="Rebuild the archive with a standard writer.",
    references=(_ZIP_SPEC, _CWE_CONFLICT),
)
ZIP_UNSAFE_PATH = Rule(
    id="PCL-ZIP-010",
    title="Zip entry name escapes the extraction folder",
    severity=Severity.MEDIUM,
    cwe=22,
    description=(
        "An entry name is absolute or contains a '..' component. Tools that extract the "
        "archive (model hubs, Keras, user scripts) may write it outside the target folder and "
        "overwrite files there (Zip Slip)."
    ),
    remediation="Do not extract the archive; rebuild it with relative names.",
    references=("https://security.snyk.io/research/zip-slip-vulnerability",),
)
ZIP_BOMB = Rule(
    id="PCL-ZIP-011",
    title="Zip entry exceeds the decompression budget",
    severity=Severity.MEDIUM,
    cwe=409,
    description=(
        "An entry declares or decompresses to more bytes than the budget allows, or its "
        "compression ratio is beyond anything model data reaches. Decompression bombs exhaust "
        "memory or make scanners give up; the entry is reported as not examined."
    ),
    remediation="Inspect the archive by hand; raise the budget only for a trusted file.",
    references=("https://cwe.mitre.org/data/definitions/409.html",),
)
ZIP_TOO_MANY = Rule(
    id="PCL-ZIP-012",
    title="Zip archive has more entries than the budget",
    severity=Severity.MEDIUM,
    cwe=770,
    description=(
        "The central directory lists more entries than the member budget. Entries past the "
        "budget are not examined; huge entry counts are a resource-exhaustion technique."
    ),
    remediation="Raise max_members for this file if it is expected, and scan again.",
    references=("https://cwe.mitre.org/data/definitions/770.html",),
)
ZIP_UNREADABLE = Rule(
    id="PCL-ZIP-013",
    title="Zip archive has no usable central directory",
    severity=Severity.LOW,
    cwe=20,
    confidence=Confidence.MEDIUM,
    description=(
        "The file starts like a zip but no end record points at a central directory, so no "
        "directory-based reader can list it. It may be truncated, or a polyglot meant for "
        "another loader."
    ),
    remediation="Obtain a complete copy of the file.",
    references=(_ZIP_SPEC,),
)
ZIP_SIZE_MISMATCH = Rule(
    id="PCL-ZIP-014",
    title="Zip entry size differs from its declared size",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "A stored entry's compressed and uncompressed sizes differ, or an entry decompresses "
        "to another size than the central directory declares. miniz rejects such entries "
        "while other readers stop at the declared size or read on."
    ),
    remediation="Rebuild the archive with a standard writer.",
    references=(_ZIP_SPEC, _CWE_CONFLICT),
)
TS_NATIVE_LIBRARY = Rule(
    id="PCL-ZIP-015",
    title="TorchScript code loads native code",
    severity=Severity.HIGH,
    cwe=829,
    description=(
        "TorchScript code in the archive mentions load_library, ctypes or cdll. Native "
        "libraries run arbitrary machine code in the loading process; a model archive has no "
        "reason to load one."
    ),
    remediation="Do not load the model; ask the publisher why it needs native code.",
    references=("https://pytorch.org/tutorials/advanced/torch_script_custom_ops.html",),
)
TS_CUSTOM_OP = Rule(
    id="PCL-ZIP-016",
    title="TorchScript code calls a custom operator",
    severity=Severity.MEDIUM,
    cwe=829,
    confidence=Confidence.MEDIUM,
    description=(
        "TorchScript code calls an operator or class outside the aten, prim and quantized "
        "namespaces. Such operators are implemented in a native library that must be loaded "
        "before the model; find out which library and where it comes from."
    ),
    remediation="Review the library that provides the operator before loading the model.",
    references=("https://pytorch.org/tutorials/advanced/torch_script_custom_ops.html",),
)

ARC_UNSAFE_PATH = Rule(
    id="PCL-ARC-001",
    title="Archive entry name escapes the extraction folder",
    severity=Severity.MEDIUM,
    cwe=22,
    description=(
        "A tar or 7z entry name is absolute or contains '..'. Python's tarfile without an "
        "extraction filter (the default before Python 3.14) writes it wherever it points."
    ),
    remediation="Do not extract the archive; rebuild it with relative names.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2007-4559",),
)
ARC_LINK = Rule(
    id="PCL-ARC-002",
    title="Archive holds a link or device entry",
    severity=Severity.MEDIUM,
    cwe=59,
    description=(
        "A tar or 7z entry is a symbolic link, hard link or device node. Extracting it can "
        "make later reads or writes reach files outside the archive; torch.load extracts the "
        "members of legacy tar checkpoints and reads them (high severity then)."
    ),
    remediation="Rebuild the archive with regular files only.",
    references=(
        "https://nvd.nist.gov/vuln/detail/CVE-2007-4559",
        "https://cwe.mitre.org/data/definitions/59.html",
    ),
)
ARC_BOMB = Rule(
    id="PCL-ARC-003",
    title="Compressed data exceeds the decompression budget",
    severity=Severity.MEDIUM,
    cwe=409,
    description=(
        "A compressed stream or archive decompresses to more bytes than the budget, or at a "
        "ratio beyond anything model data reaches. The rest is not examined; decompression "
        "bombs exhaust memory or make scanners give up."
    ),
    remediation="Inspect the file by hand; raise the budget only for a trusted file.",
    references=("https://cwe.mitre.org/data/definitions/409.html",),
)
ARC_MALFORMED = Rule(
    id="PCL-ARC-004",
    title="Archive or compressed stream is damaged",
    severity=Severity.LOW,
    cwe=20,
    confidence=Confidence.MEDIUM,
    description=(
        "A tar header fails its checksum or runs past the file, or a compressed stream is "
        "truncated or corrupt. Everything readable before the damage was examined; loaders "
        "stop at the same point."
    ),
    remediation="Obtain an undamaged copy of the file.",
)
ARC_ENCRYPTED = Rule(
    id="PCL-ARC-005",
    title="Encrypted 7z archive",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The 7z archive needs a password, so its entries cannot be examined. Repacking a "
        "PyTorch checkpoint as 7z was used to slip malicious models past hub scanners."
    ),
    remediation="Obtain an unencrypted copy and scan that.",
    references=(
        "https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face",
    ),
)
ARC_TOO_MANY = Rule(
    id="PCL-ARC-006",
    title="Archive has more entries than the budget",
    severity=Severity.MEDIUM,
    cwe=770,
    description=(
        "The archive lists more entries than the member budget; the rest are not examined. "
        "Huge entry counts are a resource-exhaustion technique."
    ),
    remediation="Raise max_members for this file if it is expected, and scan again.",
    references=("https://cwe.mitre.org/data/definitions/770.html",),
)
ARC_DUPLICATE = Rule(
    id="PCL-ARC-007",
    title="Several tar entries share a name",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "Two tar entries have the same name. tarfile (and torch.load's legacy tar path) reads "
        "the last one, while a scanner that stops at the first sees another file. pellucid "
        "scans every copy."
    ),
    remediation="Remove the extra entries.",
    references=(_CWE_CONFLICT,),
)
ARC_TRAILING = Rule(
    id="PCL-ARC-008",
    title="Data after the end of an archive or compressed stream",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "Bytes follow the end-of-archive marker or the last compressed stream. Loaders stop "
        "before them, so they can only matter to another reader of the same file; pellucid "
        "scans them as their own member."
    ),
    remediation="Remove the extra bytes; find out who added them.",
)

ZIP_RULES = (
    ZIP_CRC_MISMATCH,
    ZIP_NAME_MISMATCH,
    ZIP_DUPLICATE_NAMES,
    ZIP_OVERLAP,
    ZIP_OUTSIDE_BYTES,
    ZIP_AMBIGUOUS_DIRECTORY,
    ZIP_ENCRYPTED,
    ZIP_FLAGS,
    ZIP_LOCAL_MISMATCH,
    ZIP_UNSAFE_PATH,
    ZIP_BOMB,
    ZIP_TOO_MANY,
    ZIP_UNREADABLE,
    ZIP_SIZE_MISMATCH,
    TS_NATIVE_LIBRARY,
    TS_CUSTOM_OP,
)
TAR_RULES = (ARC_UNSAFE_PATH, ARC_LINK, ARC_MALFORMED, ARC_TOO_MANY, ARC_DUPLICATE, ARC_TRAILING)
SEVEN_ZIP_RULES = (ARC_UNSAFE_PATH, ARC_LINK, ARC_BOMB, ARC_ENCRYPTED, ARC_TOO_MANY)
COMPRESSED_RULES = (ARC_BOMB, ARC_MALFORMED, ARC_TRAILING)
