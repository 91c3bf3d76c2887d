"""The STM kernel's HLS interface: the one definition of its register map."""
from ..hw.interface import Arg, KernelInterface

STM_INTERFACE = KernelInterface(
    top="stm_top",
    args=(
        Arg("net", "ptr", "in", "packed network: header, node table, edge parameters, samples"),
        Arg("evidence", "ptr", "in", "evidence values, batch x n_evidence words"),
        Arg("out", "ptr", "out", "per batch item: status words then root weights"),
        Arg("net_words", "u32", "in", "32-bit words in net"),
        Arg("batch", "u32", "in", "evidence sets in this call"),
    ),
    doc="STM importance-sampling inference over a batch of evidence sets",
)
