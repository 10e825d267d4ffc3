"""Header tests for compressed streams that carry no magic number of their own.

Kept apart from ``compression`` so that identifying a file does not import the codecs.
"""

from __future__ import annotations

__all__ = ["JOBLIB_ZFILE", "is_lzma_alone", "joblib_zfile_start"]


def is_lzma_alone(head: bytes) -> bool:
    """True for the legacy ``.lzma`` header joblib writes with ``compress='lzma'``.

    Properties byte 0x5D (lc=3, lp=0, pb=2, the only value xz-utils and Python write), a
    power-of-two-ish dictionary size and an unknown (-1) or plausible uncompressed size.
    """
    if len(head) < 13 or head[0] != 0x5D:
        return False
    dictionary = int.from_bytes(head[1:5], "little")
    size = int.from_bytes(head[5:13], "little")
    dict_ok = dictionary >= 4096 and (dictionary & (dictionary - 1) == 0 or dictionary % 3 == 0)
    return dict_ok and (size == 2**64 - 1 or size < 2**48)


JOBLIB_ZFILE = b"ZF"  # joblib < 0.9.3: "ZF" + "0x%016x" length (+ optional space) + zlib stream


def joblib_zfile_start(head: bytes) -> int | None:
    """Where the zlib stream starts in an old joblib ``ZF`` file, or None if it is not one."""
    if not head.startswith(JOBLIB_ZFILE + b"0x") or len(head) < 21:
        return None
    try:
        int(head[2:20], 16)
    except ValueError:
        return None
    return 21 if head[20:21] == b" " else 20
