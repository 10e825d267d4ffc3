"""NumPy ``.npy`` files: a literal header, then raw numbers or, for object arrays, a pickle.

``numpy.load`` with ``allow_pickle=True`` unpickles everything after the header of an object
array (CVE-2019-6446). The header is parsed with ``ast.literal_eval`` (a literal parser; it
evaluates no code) and validated the way numpy does; an object array's remainder is handed on
as a pickle member, and bytes a numeric array does not account for are handed on as well.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import ClassVar

from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.source import ByteSource

MAGIC = b"\x93NUMPY"
_HEADER_LIMIT = 1024 * 1024  # numpy refuses more than 10 000 unless allow_pickle is set
_NUMPY_SAFE_HEADER = 10_000

OBJECT_ARRAY = Rule(
    id="PCL-NPY-001",
    title="NumPy file holds an object array (a pickle)",
    severity=Severity.MEDIUM,
    cwe=502,
    description=(
        "The array's dtype contains Python objects, which numpy stores as a pickle after the "
        "header. Loading it needs numpy.load with allow_pickle=True, and unpickling can run any "
        "code (CVE-2019-6446). The pickle itself is scanned as a member; this finding says the "
        "file needs the unsafe option at all."
    ),
    remediation="Store numeric arrays only (or use safetensors); never pass allow_pickle=True "
    "for files you did not create.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2019-6446",),
)
BAD_HEADER = Rule(
    id="PCL-NPY-002",
    title="NumPy header is malformed",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "The .npy header is not a dict literal with exactly the keys descr, fortran_order and "
        "shape and values of the right types, or its version or length is invalid. numpy "
        "refuses such files; a crafted header aims at parsers that are less strict."
    ),
    remediation="Regenerate the file with numpy.save.",
    references=("https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html",),
)
SIZE_MISMATCH = Rule(
    id="PCL-NPY-003",
    title="NumPy data size does not match the header",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "The bytes after the header differ from shape times item size. Missing bytes make "
        "numpy fail; extra bytes are never read by numpy and can hide content for another "
        "reader. pellucid scans extra bytes as their own member."
    ),
    remediation="Regenerate the file with numpy.save.",
    references=("https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html",),
)

_SIMPLE = re.compile(r"^[<>|=]?([biufcSaUVmMO?])(\d*)(?:\[\w+\])?$")
_FIXED = {"?": 1, "m": 8, "M": 8, "O": 8}


@dataclass(frozen=True, slots=True)
class Header:
    descr: object
    fortran_order: bool
    shape: tuple[int, ...]
    data_offset: int


def parse_header(head: bytes) -> Header | str:
    """The validated header of an .npy file, or why it is invalid."""
    if len(head) < 10 or not head.startswith(MAGIC):
        return "missing magic string"
    major = head[6]
    if major not in (1, 2, 3):
        return f"unknown format version {major}.{head[7]}"
    size_bytes = 2 if major == 1 else 4
    length = int.from_bytes(head[8 : 8 + size_bytes], "little")
    start = 8 + size_bytes
    if length > _HEADER_LIMIT or start + length > len(head):
        return f"header length {length} runs past the file or the limit"
    try:
        text = head[start : start + length].decode("utf-8" if major == 3 else "latin1")
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        return f"header is not a literal: {type(exc).__name__}"
    if not isinstance(value, dict) or set(value) != {"descr", "fortran_order", "shape"}:
        return "header must be a dict with exactly descr, fortran_order and shape"
    shape, fortran = value["shape"], value["fortran_order"]
    if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape):
        return f"shape {shape!r} is not a tuple of non-negative integers"
    if not isinstance(fortran, bool):
        return f"fortran_order {fortran!r} is not a bool"
    if length > _NUMPY_SAFE_HEADER:
        return f"header of {length} bytes; numpy refuses more than {_NUMPY_SAFE_HEADER}"
    return Header(value["descr"], fortran, shape, start + length)


def has_objects(descr: object) -> bool:
    """True if the dtype description contains Python objects (directly or in a field)."""
    if isinstance(descr, str):
        match = _SIMPLE.match(descr)
        if match is None:  # not what numpy.save writes; numpy.dtype() may still accept it
            return "O" in descr or "object" in descr.lower()
        return match.group(1) == "O"
    if isinstance(descr, tuple) and len(descr) == 2:  # (base dtype, subarray shape)
        return has_objects(descr[0])
    if isinstance(descr, list):
        return any(isinstance(f, tuple) and len(f) >= 2 and has_objects(f[1]) for f in descr)
    return True  # anything else is not a dtype numpy.save writes; treat it as unsafe


def itemsize(descr: object) -> int | None:
    """Bytes per item for the descriptions numpy.save writes; None if unknown."""
    if isinstance(descr, str):
        match = _SIMPLE.match(descr)
        if match is None:
            return None
        code, digits = match.groups()
        if code in _FIXED:
            return _FIXED[code]
        if not digits:
            return None
        return int(digits) * (4 if code == "U" else 1)
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not (isinstance(field, tuple) and len(field) in (2, 3)):
                return None
            size = itemsize(field[1])
            if size is None:
                return None
            sub = field[2] if len(field) == 3 else ()
            if not (isinstance(sub, tuple) and all(type(d) is int and d >= 0 for d in sub)):
                return None
            total += size * math.prod(sub)
        return total
    return None


class NumpyScanner:
    """``.npy`` files (also inside ``.npz``): header, size, and object arrays."""

    id: ClassVar[str] = "numpy"
    rules: ClassVar[tuple[Rule, ...]] = (OBJECT_ARRAY, BAD_HEADER, SIZE_MISMATCH)

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.NUMPY

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        header = parse_header(source.read(0, 12 + _HEADER_LIMIT))
        if isinstance(header, str):
            evidence = artifact.evidence(offset=0, snippet=header)
            rest = Member("<after the npy header>", source.slice(10), "unparsed npy content")
            return ScanResult((BAD_HEADER.finding(evidence),), (rest,))
        body = source.slice(header.data_offset)
        snippet = f"descr={header.descr!r}, shape={header.shape!r}"[:200]
        if has_objects(header.descr):
            evidence = artifact.evidence(offset=header.data_offset, snippet=snippet)
            member = Member(
                "<object array pickle>",
                body,
                "npy object array; numpy.load unpickles it with allow_pickle=True",
                FileKind.PICKLE,
            )
            return ScanResult((OBJECT_ARRAY.finding(evidence),), (member,))
        return self._numeric(artifact, header, body, snippet)

    def _numeric(
        self, artifact: Artifact, header: Header, body: ByteSource, snippet: str
    ) -> ScanResult:
        size = itemsize(header.descr)
        if size is None:  # a dtype we cannot size: let content identification decide
            member = Member("<npy data>", body, "npy array data of an unrecognised dtype")
            return ScanResult(members=(member,), notes=(f"unsized dtype {snippet}",))
        expected = size * math.prod(header.shape)
        findings: list[Finding] = []
        members: tuple[Member, ...] = ()
        if body.size != expected:
            at = header.data_offset + min(expected, body.size)
            detail = f"{expected} bytes expected after the header, {body.size} present"
            findings.append(
                SIZE_MISMATCH.finding(
                    artifact.evidence(offset=at, snippet=snippet),
                    detail,
                    severity=Severity.LOW if body.size < expected else None,
                )
            )
            if body.size > expected:
                members = (
                    Member(
                        f"<bytes after the array at {at}>",
                        body.slice(expected),
                        "bytes numpy never reads",
                    ),
                )
        return ScanResult(tuple(findings), members, notes=(f"numeric array {snippet}",))
