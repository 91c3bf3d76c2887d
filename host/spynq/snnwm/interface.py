"""The SNNWM kernel's HLS interface: the one definition of its register map."""
from ..hw.interface import Arg, KernelInterface

SNNWM_INTERFACE = KernelInterface(
    top="snnwm_top",
    args=(
        Arg("net", "ptr", "in", "packed network: header, stage table, W2 taps, W1 rows"),
        Arg("spikes_in", "ptr", "in", "bit-packed input rasters, batch x T rows of n_in bits"),
        Arg("out", "ptr", "out", "status beat, then per sample and stage: counts beat, spike rows, v_last, v_max "
                                 "(layers) or o (readout); the sample's two status beats"),
        Arg("net_words", "u32", "in", "32-bit words in net"),
        Arg("n_steps", "u32", "in", "time steps T"),
        Arg("batch", "u32", "in", "rasters in this call"),
    ),
    doc="SNNWM working-memory window unit: FC layers (window/overlap) and the temporal-fusion readout",
)
