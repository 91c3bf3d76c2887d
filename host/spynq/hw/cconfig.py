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
# The repo files the package reads at run time (hls headers, overlays.json, notebooks,
# built overlays) as an installed wheel carries them (scripts/build_wheel.sh stages them).
DATA_DIR = Path(__file__).resolve().parents[1] / "_data"


def repo_path(rel: str) -> Path:
    """Repo file or folder `rel` (e.g. "hls", "overlays/zcu104/overlays.json"): the
    checkout's when it has it, else the installed package's copy (when the package has
    data at all, so that a missing file is reported where an install would hold it)."""
    here = REPO / rel
    return DATA_DIR / rel if DATA_DIR.is_dir() and not here.exists() else here


HLS_DIR = repo_path("hls")
_CONSTEXPR = re.compile(r"^\s*constexpr\s+(?:unsigned\s+)?(?:int|long|uint32_t|int64_t)\s+(\w+)\s*=\s*([^;]+);", re.M)


def _eval(expr: str, env: dict) -> int:
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)  # 0xBAADF00Du, 1ull
    tree = ast.parse(expr.strip(), mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.LShift, ast.RShift, ast.USub, ast.FloorDiv)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError(f"unsupported constant expression {expr!r}")
    return int(eval(compile(tree, "<constexpr>", "eval"), {"__builtins__": {}}, dict(env)))


# An overlay parameter: a size the overlay build may set with -DNAME=value, else its default.
_PARAM = re.compile(r"^[ \t]*#ifndef[ \t]+(\w+)[ \t]*\n[ \t]*#define[ \t]+\1[ \t]+(\S[^\n]*)", re.M)


def read_constants(header: str, overrides: dict | None = None) -> dict[str, int]:
    """Constants of ``hls/<header>`` in declaration order (later ones may use earlier ones).

    ``#ifndef NAME / #define NAME value`` blocks are overlay parameters: `overrides`
    (NAME -> value, as the overlay build passes -DNAME=value) replaces their defaults."""
    return dict(_read(header, tuple(sorted((overrides or {}).items()))))


def parameters(header: str) -> dict[str, int]:
    """The overlay parameters of ``hls/<header>`` with their defaults."""
    text = re.sub(r"//.*", "", (HLS_DIR / header).read_text())
    env = dict(_read(header, ()))
    return {name: env[name] for name, _ in _PARAM.findall(text)}


@lru_cache(maxsize=None)
def _read(header: str, overrides: tuple) -> tuple:
    text = re.sub(r"//.*", "", (HLS_DIR / header).read_text())
    over = dict(overrides)
    items = sorted([(m.start(), m.group(1), m.group(2), True) for m in _PARAM.finditer(text)] +
                   [(m.start(), m.group(1), m.group(2), False) for m in _CONSTEXPR.finditer(text)])
    env: dict[str, int] = {}
    for _, name, expr, is_param in items:
        env[name] = int(over[name]) if is_param and name in over else _eval(expr.replace("/", "//"), env)
    unknown = set(over) - {name for _, name, _, p in items if p}
    if unknown:
        raise ValueError(f"hls/{header} has no overlay parameter {sorted(unknown)}")
    if not env:
        raise ValueError(f"no constexpr constants found in hls/{header}")
    return tuple(env.items())
