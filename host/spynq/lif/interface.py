"""The LIF delay kernel's HLS interface: the one definition of its register map."""
from ..hw.interface import Arg, KernelInterface

LIF_INTERFACE = KernelInterface(
    top="lif_delay_top",
    args=(
        Arg("net", "ptr", "in", "packed network: header, layer table, synapse rows (weight | delay << 16)"),
        Arg("spikes_in", "ptr", "in", "bit-packed input rasters, batch x T rows of n_in bits"),
        Arg("out", "ptr", "out", "status beat, then per sample: per layer spike rows, counts, v_last, v_max; "
                                 "the sample's status beat"),
        Arg("net_words", "u32", "in", "32-bit words in net"),
        Arg("n_steps", "u32", "in", "time steps T"),
        Arg("batch", "u32", "in", "rasters in this call"),
    ),
    doc="LIF layers with ring-buffer delays over a batch of spike rasters",
)
