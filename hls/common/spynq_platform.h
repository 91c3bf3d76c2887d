// The ZCU104 platform every spynq kernel and overlay is built for: one definition read by
// the HLS Tcl (hls/common/run_hls_common.tcl), the overlay Tcl (overlays/zcu104), the
// cycle models and the resource ledger (spynq.hw.platform), and the host on the board.
#ifndef SPYNQ_PLATFORM_H
#define SPYNQ_PLATFORM_H

// PL clock pl_clk0. The ZCU104 board preset runs the IOPLL at 1500 MHz (33.333 MHz x 45)
// and PYNQ reprograms PL clocks only from the IOPLL, through two integer dividers, so
// 200 MHz (1500 / 7.5) cannot be produced; 1500 / 8 = 187.5 MHz is the nearest below.
constexpr int SPYNQ_PL_CLOCK_KHZ = 187500;

// m_axi: one 128-bit bundle per kernel on S_AXI_HP0_FPD. The burst and outstanding
// settings are set once for every port (config_interface), since ports of one bundle
// with different options make Vitis fall back to its defaults; they size the adapter's
// FIFOs: outstanding * burst beats * 128 bits per direction.
constexpr int SPYNQ_MAXI_BITS = 128;
constexpr int SPYNQ_MAXI_BURST_BEATS = 64;
constexpr int SPYNQ_MAXI_OUTSTANDING = 8;
constexpr int SPYNQ_MAXI_LATENCY = 64;  // cycles the scheduler expects from request to data

// XCZU7EV-2 (ffvc1156) resources and the share an overlay may use to place and close timing.
constexpr int SPYNQ_DEV_URAM = 96;
constexpr int SPYNQ_DEV_BRAM36 = 312;
constexpr int SPYNQ_DEV_DSP = 1728;
constexpr int SPYNQ_DEV_LUT = 230400;
constexpr int SPYNQ_DEV_FF = 460800;
constexpr int SPYNQ_FIT_MEM_DSP_PCT = 80;  // URAM, BRAM36, DSP
constexpr int SPYNQ_FIT_LUT_PCT = 70;
#endif
