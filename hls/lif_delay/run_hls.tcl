# Vitis HLS build of the LIF delay kernel: vitis_hls -f hls/lif_delay/run_hls.tcl [-tclargs <steps>]
# (or scripts/build_hls.sh lif_delay). The flow itself lives in hls/common/run_hls_common.tcl.
source [file join [file dirname [file normalize [info script]]] .. common run_hls_common.tcl]

spynq_hls::run lif_delay_top lif_delay {lif_delay_top.cpp} {tb_lif_delay.cpp} {
    spynq_hls::axi_defaults
} [expr {[info exists ::argv] ? $::argv : {}}]

exit
