"""Register map and PYNQ driver of the overlay's cycle timer (rtl/axi_perf_timer.v).

The Verilog localparams are checked against the values here by a test that parses
the .v, so this file is the one definition the host side reads.

The timer counts PL clock cycles between a start (a CTRL write, or the rising edge of
its ``trig_start`` input after ARM) and the rising edge of ``trig_stop``, which the
overlay wires to the OR of the kernels' interrupt lines. A kernel's interrupt line
only rises if the kernel's GIE and IER (ap_done) bits are set, so the host enables
them before starting the kernel when it wants the hardware stop.
"""
from __future__ import annotations

import time

# Offsets in the timer's AXI4-Lite space.
REGISTERS = {
    "CTRL": 0x00,
    "STATUS": 0x04,
    "COUNT_LO": 0x08,
    "COUNT_HI": 0x0C,
    "FREE_LO": 0x10,
    "FREE_HI": 0x14,
    "ID": 0x18,
}
# Bit positions (not masks) inside CTRL and STATUS.
CTRL_BITS = {"ARM": 0, "START": 1, "STOP": 2}
STATUS_BITS = {"RUNNING": 0, "TRIGGERED": 1, "ARMED": 2}
ID_VALUE = 0x50540001  # "PT" magic in [31:16], register-map version in [15:0]

# A Vivado RTL module reference shows up in the .hwh under this VLNV.
VLNV = "xilinx.com:module_ref:axi_perf_timer:1.0"
BD_NAME = "perf_timer_0"  # instance name in overlays/zcu104/build_overlay.tcl

try:  # pynq is only needed to bind to a real (or simulated) overlay
    from pynq import DefaultIP as _Base
except ImportError:  # pragma: no cover - exercised only without pynq installed
    class _Base:  # minimal stand-in: the same read/write API over an mmio object
        def __init__(self, description):
            self.mmio = description["mmio"]

        def read(self, offset=0):
            return self.mmio.read(offset)

        def write(self, offset, value):
            self.mmio.write(offset, value)


class PerfTimer(_Base):
    """Driver for ``perf_timer_0``: arm/start/stop and read cycle counts."""

    bindto = [VLNV]

    def __init__(self, description):
        super().__init__(description)

    # -- control ---------------------------------------------------------------
    def start(self) -> None:
        """Clear the count and start counting now."""
        self.write(REGISTERS["CTRL"], 1 << CTRL_BITS["START"])

    def arm(self) -> None:
        """Clear the count and start at the next rising edge of trig_start."""
        self.write(REGISTERS["CTRL"], 1 << CTRL_BITS["ARM"])

    def stop(self) -> None:
        """Stop counting without a trigger (abort)."""
        self.write(REGISTERS["CTRL"], 1 << CTRL_BITS["STOP"])

    # -- status ----------------------------------------------------------------
    def _status(self) -> int:
        return self.read(REGISTERS["STATUS"])

    @property
    def running(self) -> bool:
        return bool(self._status() >> STATUS_BITS["RUNNING"] & 1)

    @property
    def triggered(self) -> bool:
        """True when the last measurement was ended by trig_stop."""
        return bool(self._status() >> STATUS_BITS["TRIGGERED"] & 1)

    @property
    def armed(self) -> bool:
        return bool(self._status() >> STATUS_BITS["ARMED"] & 1)

    @property
    def ident(self) -> int:
        return self.read(REGISTERS["ID"])

    # -- counts: LO first, because reading LO latches HI ----------------------------
    def _read64(self, lo: str, hi: str) -> int:
        low = self.read(REGISTERS[lo])
        return (self.read(REGISTERS[hi]) << 32) | low

    @property
    def cycles(self) -> int:
        """Cycles of the current or last measurement."""
        return self._read64("COUNT_LO", "COUNT_HI")

    @property
    def free_cycles(self) -> int:
        """Free-running cycle counter since reset."""
        return self._read64("FREE_LO", "FREE_HI")

    def wait_stopped(self, timeout: float = 1.0, poll: float = 1e-4) -> int:
        """Wait until the measurement ends and return it; raise TimeoutError otherwise.

        An armed timer still waiting for trig_start counts as not ended.
        """
        deadline = time.monotonic() + timeout
        while self._status() & (1 << STATUS_BITS["RUNNING"] | 1 << STATUS_BITS["ARMED"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{BD_NAME} still running after {timeout} s")
            time.sleep(poll)
        return self.cycles

    @staticmethod
    def seconds(cycles: int, clock_hz: float) -> float:
        return cycles / float(clock_hz)

    @property
    def clock_hz(self) -> float:
        """The clock the timer counts: what the board reports (pynq.Clocks), else the PL
        clock the overlay was built for (hls/common/spynq_platform.h)."""
        try:
            import pynq

            mhz = float(pynq.Clocks.fclk0_mhz)
            if mhz > 0:
                return mhz * 1e6
        except Exception:  # no PS clock registers (workstation, co-simulation)
            pass
        from .platform import PL_CLOCK_HZ

        return float(PL_CLOCK_HZ)
