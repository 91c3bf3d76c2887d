# Vitis HLS build of the SNNWM kernel: vitis_hls -f hls/snnwm/run_hls.tcl [-tclargs <steps>]
# (or scripts/build_hls.sh snnwm). The flow itself lives in hls/common/run_hls_common.tcl.
source [file join [file dirname [file normalize [info script]]] .. common run_hls_common.tcl]

spynq_hls::run snnwm_top snnwm {snnwm_top.cpp} {tb_snnwm.cpp} {
    spynq_hls::axi_defaults
} [expr {[info exists ::argv] ? $::argv : {}}]

exit
