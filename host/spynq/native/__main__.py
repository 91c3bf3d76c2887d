"""`python -m spynq.native`: build the three native baselines (cached) and print where."""
from __future__ import annotations

import sys

from . import KERNELS, available, build, flags


def main() -> int:
    ok, why = available()
    if not ok:
        print(f"spynq.native: {why}: the native backend is unavailable here")
        return 1
    for k in KERNELS:
        print(f"{k:6s} {build(k)}  ({' '.join(flags(k))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
