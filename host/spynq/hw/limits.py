"""Limits every kernel shares (hls/common/spynq_limits.h): the most words one call may
write, checked by the host and by the kernels' parsers alike."""
from __future__ import annotations

from ..errors import SpynqValueError
from .cconfig import read_constants

MAX_OUT_WORDS = read_constants("common/spynq_limits.h")["SPYNQ_MAX_OUT_WORDS"]


def check_out_words(n: int, T: int, batch: int, hdr_words: int, error=SpynqValueError) -> int:
    """n, the out words of a call of `batch` samples of T steps (hdr_words of header);
    `error` past MAX_OUT_WORDS, saying how large a batch fits."""
    if n > MAX_OUT_WORDS:
        per = (n - hdr_words) // max(batch, 1)
        raise error(f"batch {batch} x T={T}: the out buffer would be {n} words ({per} per sample), more than "
                    f"the {MAX_OUT_WORDS} one call may write; split the batch into calls of at most "
                    f"{(MAX_OUT_WORDS - hdr_words) // per} samples")
    return n
