# Vitis HLS build of the LIF delay kernel: vitis_hls -f hls/lif_delay/run_hls.tcl [-tclargs <steps>]
# (or scripts/build_hls.sh lif_delay). The flow itself lives in hls/common/run_hls_common.tcl.
source [file join [file dirname [file normalize [info script]]] .. common run_hls_common.tcl]

spynq_hls::run lif_delay_top lif_delay {lif_delay_top.cpp} {tb_lif_delay.cpp} {
    # Register map of host/spynq/hw/interface.py: every pointer is an m_axi port with
    # its address in s_axi_control (offset=slave), 64 bits wide because pynq.allocate
    # may hand out buffers above 4 GiB on the ZCU104's DDR (DDR_HIGH).
    config_interface -default_slave_interface s_axilite
    config_interface -m_axi_offset slave
    config_interface -m_axi_addr64
    # Data ports are already ap_uint<128>: cap widening at the 128-bit S_AXI_HP0_FPD
    # width; pynq.allocate buffers are page aligned, so 16-byte alignment is safe and
    # lets HLS infer full-width bursts.
    config_interface -m_axi_max_widen_bitwidth 128
    config_interface -m_axi_alignment_byte_size 16
    # DDR through HP0 and the SmartConnect takes tens of cycles at 200 MHz; telling the
    # scheduler lets it issue reads early instead of stalling on each one.
    config_interface -m_axi_latency 64
} [expr {[info exists ::argv] ? $::argv : {}}]

exit
