# Vitis HLS build of the STM kernel: vitis_hls -f hls/stm/run_hls.tcl [-tclargs <steps>]
# (or scripts/build_hls.sh stm). The flow itself lives in hls/common/run_hls_common.tcl.
source [file join [file dirname [file normalize [info script]]] .. common run_hls_common.tcl]

spynq_hls::run stm_top stm {stm_top.cpp} {tb_stm.cpp} {
    spynq_hls::axi_defaults
} [expr {[info exists ::argv] ? $::argv : {}}]

exit
