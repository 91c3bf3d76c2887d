"""One definition of each kernel's Vitis HLS interface.

The argument list below is the single source for: the s_axi_control register map
(Vitis HLS rules, see ``register_offsets``), the generated co-simulation shell, the
PYNQ driver offsets and the overlay's IP name. A test parses the HLS top function's
signature and checks it against this list, so the C++ and Python cannot drift.

Vitis HLS s_axi_control layout (ap_ctrl_hs):
  0x00 AP_CTRL  bit0 ap_start, bit1 ap_done (clear on read), bit2 ap_idle,
                bit3 ap_ready, bit7 auto_restart
  0x04 GIE      global interrupt enable
  0x08 IER      bit0 ap_done, bit1 ap_ready
  0x0C ISR      same bits, toggle on write
  0x10 ...      arguments in declaration order: a 64-bit pointer takes two data words
                (low, high) then one reserved word; a 32-bit scalar one data word then
                one reserved word.
"""
from __future__ import annotations

from dataclasses import dataclass, field

AP_CTRL = 0x00
GIE = 0x04
IER = 0x08
ISR = 0x0C
ARGS_BASE = 0x10

AP_START = 1 << 0
AP_DONE = 1 << 1
AP_IDLE = 1 << 2
AP_READY = 1 << 3
AUTO_RESTART = 1 << 7

M_AXI_DATA_BITS = 128  # every m_axi pointer is ap_uint<128>*: 16 bytes per beat
M_AXI_BEAT_BYTES = M_AXI_DATA_BITS // 8
M_AXI_ADDR_BITS = 64


def pad_words(n_words: int) -> int:
    """32-bit words rounded up to whole m_axi beats (every buffer and row is beat aligned)."""
    per_beat = M_AXI_BEAT_BYTES // 4
    return -(-n_words // per_beat) * per_beat


@dataclass(frozen=True)
class Arg:
    """One argument of the HLS top function, in declaration order."""

    name: str
    kind: str  # "ptr" (m_axi, offset=slave) or "u32" (s_axilite scalar)
    direction: str = "in"  # for pointers: "in", "out" or "inout"
    doc: str = ""

    def __post_init__(self):
        if self.kind not in ("ptr", "u32"):
            raise ValueError(f"argument {self.name}: kind must be 'ptr' or 'u32', not {self.kind!r}")
        if self.direction not in ("in", "out", "inout"):
            raise ValueError(f"argument {self.name}: bad direction {self.direction!r}")
        if self.kind == "u32" and self.direction != "in":
            raise ValueError(f"argument {self.name}: scalars are inputs only")

    @property
    def words(self) -> int:
        """32-bit register words the argument occupies, reserved word included."""
        return 3 if self.kind == "ptr" else 2


@dataclass(frozen=True)
class KernelInterface:
    """A Vitis HLS kernel as the host, the shell and the overlay see it."""

    top: str  # HLS top function name, also the IP name in the block design
    args: tuple[Arg, ...]
    vendor: str = "spynq"
    library: str = "hls"
    version: str = "1.0"
    bundle: str = "gmem"  # all pointers share one m_axi port: m_axi_gmem
    doc: str = ""
    _offsets: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        names = [a.name for a in self.args]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.top}: duplicate argument names {names}")
        offsets, off = {}, ARGS_BASE
        for a in self.args:
            offsets[a.name] = off
            off += 4 * a.words
        object.__setattr__(self, "_offsets", offsets)

    @property
    def vlnv(self) -> str:
        return f"{self.vendor}:{self.library}:{self.top}:{self.version}"

    def offset(self, name: str) -> int:
        try:
            return self._offsets[name]
        except KeyError:
            raise KeyError(f"{self.top} has no argument {name!r}; it has {list(self._offsets)}") from None

    def register_offsets(self) -> dict[str, int]:
        return dict(self._offsets)

    @property
    def control_bytes(self) -> int:
        """Size of the s_axi_control address space, rounded up to a power of two (>= 64)."""
        end = ARGS_BASE + 4 * sum(a.words for a in self.args)
        size = 64
        while size < end:
            size *= 2
        return size

    @property
    def pointers(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.kind == "ptr")

    @property
    def scalars(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.kind == "u32")

    def register_map(self) -> dict:
        """The ``registers`` entry of a PYNQ ip_dict, as pynq builds it from a .hwh."""
        regs = {
            "CTRL": {"address_offset": AP_CTRL, "size": 32, "access": "read-write",
                     "description": "Control signals", "fields": {
                         "AP_START": {"bit_offset": 0, "bit_width": 1, "access": "read-write", "description": ""},
                         "AP_DONE": {"bit_offset": 1, "bit_width": 1, "access": "read-only", "description": ""},
                         "AP_IDLE": {"bit_offset": 2, "bit_width": 1, "access": "read-only", "description": ""},
                         "AP_READY": {"bit_offset": 3, "bit_width": 1, "access": "read-only", "description": ""},
                         "AUTO_RESTART": {"bit_offset": 7, "bit_width": 1, "access": "read-write", "description": ""},
                     }},
            "GIER": {"address_offset": GIE, "size": 32, "access": "read-write", "description": "", "fields": {}},
            "IP_IER": {"address_offset": IER, "size": 32, "access": "read-write", "description": "", "fields": {}},
            "IP_ISR": {"address_offset": ISR, "size": 32, "access": "read-write", "description": "", "fields": {}},
        }
        for a in self.args:
            off = self._offsets[a.name]
            if a.kind == "ptr":
                regs[f"{a.name}_1"] = {"address_offset": off, "size": 32, "access": "write-only",
                                       "description": f"{a.name} low word", "fields": {}}
                regs[f"{a.name}_2"] = {"address_offset": off + 4, "size": 32, "access": "write-only",
                                       "description": f"{a.name} high word", "fields": {}}
            else:
                regs[a.name] = {"address_offset": off, "size": 32, "access": "write-only",
                                "description": a.doc, "fields": {}}
        return regs
