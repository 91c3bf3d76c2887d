"""Read ``constexpr int NAME = value;`` constants from the HLS headers.

The C++ header is the single definition of a kernel's sizes and formats; Python reads
it instead of repeating the numbers.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HLS_DIR = REPO / "hls"
_CONSTEXPR = re.compile(r"^\s*constexpr\s+(?:unsigned\s+)?(?:int|long|uint32_t|int64_t)\s+(\w+)\s*=\s*([^;]+);", re.M)


def _eval(expr: str, env: dict) -> int:
    tree = ast.parse(expr.strip(), mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.LShift, ast.RShift, ast.USub, ast.FloorDiv)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError(f"unsupported constant expression {expr!r}")
    return int(eval(compile(tree, "<constexpr>", "eval"), {"__builtins__": {}}, dict(env)))


@lru_cache(maxsize=None)
def read_constants(header: str) -> dict[str, int]:
    """Constants of ``hls/<header>`` in declaration order (later ones may use earlier ones)."""
    text = (HLS_DIR / header).read_text()
    text = re.sub(r"//.*", "", text)
    env: dict[str, int] = {}
    for name, expr in _CONSTEXPR.findall(text):
        env[name] = _eval(expr.replace("/", "//"), env)
    if not env:
        raise ValueError(f"no constexpr constants found in hls/{header}")
    return env
