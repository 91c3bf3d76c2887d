"""The ZCU104 platform (hls/common/spynq_platform.h): PL clock, m_axi settings, device
resources and the share of them an overlay may use. Read, not repeated."""
from __future__ import annotations

from .cconfig import read_constants

P = read_constants("common/spynq_platform.h")

PL_CLOCK_HZ = P["SPYNQ_PL_CLOCK_KHZ"] * 1000
PL_CLOCK_MHZ = PL_CLOCK_HZ / 1e6
MAXI_BITS = P["SPYNQ_MAXI_BITS"]
MAXI_BURST_BEATS = P["SPYNQ_MAXI_BURST_BEATS"]
MAXI_OUTSTANDING = P["SPYNQ_MAXI_OUTSTANDING"]
MAXI_LATENCY = P["SPYNQ_MAXI_LATENCY"]

DEVICE = {"URAM": P["SPYNQ_DEV_URAM"], "BRAM36": P["SPYNQ_DEV_BRAM36"], "DSP": P["SPYNQ_DEV_DSP"],
          "LUT": P["SPYNQ_DEV_LUT"], "FF": P["SPYNQ_DEV_FF"]}
# Largest share of each resource an overlay may use to place and close timing (FF: no
# limit of its own; LUT is the binding logic resource).
FIT_PCT = {"URAM": P["SPYNQ_FIT_MEM_DSP_PCT"], "BRAM36": P["SPYNQ_FIT_MEM_DSP_PCT"],
           "DSP": P["SPYNQ_FIT_MEM_DSP_PCT"], "LUT": P["SPYNQ_FIT_LUT_PCT"], "FF": 100}
