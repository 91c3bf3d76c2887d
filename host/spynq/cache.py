"""Content-keyed caches of the CPU paths (the STM normalised likelihoods, numpy and
native): keys are digests of the arrays' contents, so an array changed in place is a new
key; the cache is bounded in bytes and safe to use from several threads."""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np


def default_limit(cap: int = 1 << 29, share: int = 8) -> int:
    """A cache's byte limit: `cap`, or 1/`share` of this machine's memory where that is
    less (the ZCU104's PS has 2 GB, shared with PYNQ's CMA buffers: 256 MB there)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return cap
    return min(cap, total // share)


def digest(*parts) -> bytes:
    """A digest of arrays' dtypes, shapes and bytes (None counts as a part)."""
    h = hashlib.sha256()  # SHA extensions: ~2x blake2b here
    for p in parts:
        if p is None:
            h.update(b"-")
            continue
        a = np.ascontiguousarray(p)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.reshape(-1).view(np.uint8))
    return h.digest()


class ByteLRU:
    """Least-recently-used values up to limit() bytes in all (size(value) each); a value
    larger than the limit is not kept. limit is called on every put, so a module constant
    it reads can be changed at run time."""

    def __init__(self, limit: Callable[[], int], size: Callable = lambda v: v.nbytes):
        self._limit, self._size = limit, size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            v = self._items.get(key)
            if v is not None:
                self._items.move_to_end(key)
            return v

    def put(self, key, value) -> None:
        limit = self._limit()
        if self._size(value) > limit:
            return
        with self._lock:
            self._items[key] = value
            while sum(self._size(v) for v in self._items.values()) > limit:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def values(self) -> list:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)
