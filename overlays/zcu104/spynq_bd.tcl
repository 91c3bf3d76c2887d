# Block design of the spynq overlay (sourced by build_overlay.tcl, which has already
# created the project, added the HLS IP repos and rtl/axi_perf_timer.v, and sourced
# hls/common/run_hls_common.tcl for spynq_hls::vlnv).
#
#   PS M_AXI_HPM0_FPD -> ctrl_ic (SmartConnect) -> <top>_0/s_axi_control (each kernel)
#                                               -> perf_timer_0/s_axi, axi_intc_0/s_axi
#   <top>_0/m_axi_gmem (each kernel) -> mem_ic (SmartConnect) -> PS S_AXI_HP0_FPD
#   <top>_0/interrupt -> irq_concat -> axi_intc_0/intr -> PS pl_ps_irq0   (PYNQ interrupts)
#                                   -> perf_timer_0/trig_stop             (latency stop)
# One clock (pl_clk0) and one reset (rst_pl_clk0) for everything: no clock crossings.

# Bus-interface and pin names that Vitis HLS gives an ap_ctrl_hs IP with bundle gmem.
namespace eval spynq_bd {
    variable hls_ctrl s_axi_control
    variable hls_mem  m_axi_gmem
}

proc spynq_bd::create {design kernels pl_mhz hp_bits} {
    variable hls_ctrl; variable hls_mem
    set n [llength $kernels]
    create_bd_design $design

    # PS with the ZCU104 board preset (DDR, MIO, clocks), then our PL-side ports.
    set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:zynq_ultra_ps_e zynq_ultra_ps_e_0]
    apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e \
        -config {apply_board_preset "1"} $ps
    set_property -dict [list \
        CONFIG.PSU__USE__M_AXI_GP0 {1} \
        CONFIG.PSU__USE__M_AXI_GP1 {0} \
        CONFIG.PSU__USE__M_AXI_GP2 {0} \
        CONFIG.PSU__USE__S_AXI_GP2 {1} \
        CONFIG.PSU__SAXIGP2__DATA_WIDTH $hp_bits \
        CONFIG.PSU__USE__IRQ0 {1} \
        CONFIG.PSU__FPGA_PL0_ENABLE {1} \
        CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $pl_mhz \
    ] $ps
    # (GP0 = M_AXI_HPM0_FPD for control; GP1/GP2 = HPM1_FPD/HPM0_LPD are switched off
    # so their clock pins need no driver; S_AXI_GP2 = S_AXI_HP0_FPD for kernel data.)

    set clk [get_bd_pins zynq_ultra_ps_e_0/pl_clk0]
    set rst [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset rst_pl_clk0]
    connect_bd_net $clk [get_bd_pins rst_pl_clk0/slowest_sync_clk] \
        [get_bd_pins zynq_ultra_ps_e_0/maxihpm0_fpd_aclk] \
        [get_bd_pins zynq_ultra_ps_e_0/saxihp0_fpd_aclk]
    connect_bd_net [get_bd_pins zynq_ultra_ps_e_0/pl_resetn0] [get_bd_pins rst_pl_clk0/ext_reset_in]
    set aresetn [get_bd_pins rst_pl_clk0/peripheral_aresetn]

    # Control path: one master port per kernel, then the timer, then the intc.
    set ctrl [create_bd_cell -type ip -vlnv xilinx.com:ip:smartconnect ctrl_ic]
    set_property -dict [list CONFIG.NUM_SI {1} CONFIG.NUM_MI [expr {$n + 2}]] $ctrl
    # Data path: every kernel's m_axi_gmem shares HP0 (the kernels run one at a time).
    set mem [create_bd_cell -type ip -vlnv xilinx.com:ip:smartconnect mem_ic]
    set_property -dict [list CONFIG.NUM_SI $n CONFIG.NUM_MI {1}] $mem
    foreach ic {ctrl_ic mem_ic} {
        connect_bd_net $clk [get_bd_pins $ic/aclk]
        connect_bd_net [get_bd_pins rst_pl_clk0/interconnect_aresetn] [get_bd_pins $ic/aresetn]
    }
    connect_bd_intf_net [get_bd_intf_pins zynq_ultra_ps_e_0/M_AXI_HPM0_FPD] [get_bd_intf_pins ctrl_ic/S00_AXI]
    connect_bd_intf_net [get_bd_intf_pins mem_ic/M00_AXI] [get_bd_intf_pins zynq_ultra_ps_e_0/S_AXI_HP0_FPD]

    # Interrupt lines, one per kernel in KERNELS order (PYNQ numbers them the same way).
    set concat [create_bd_cell -type ip -vlnv xilinx.com:ip:xlconcat irq_concat]
    set_property -dict [list CONFIG.NUM_PORTS $n] $concat

    set i 0
    foreach top $kernels {
        create_bd_cell -type ip -vlnv [spynq_hls::vlnv $top] ${top}_0
        connect_bd_net $clk [get_bd_pins ${top}_0/ap_clk]
        connect_bd_net $aresetn [get_bd_pins ${top}_0/ap_rst_n]
        connect_bd_intf_net [get_bd_intf_pins ctrl_ic/[format M%02d_AXI $i]] \
            [get_bd_intf_pins ${top}_0/$hls_ctrl]
        connect_bd_intf_net [get_bd_intf_pins ${top}_0/$hls_mem] \
            [get_bd_intf_pins mem_ic/[format S%02d_AXI $i]]
        connect_bd_net [get_bd_pins ${top}_0/interrupt] [get_bd_pins irq_concat/In$i]
        incr i
    }

    # Cycle timer (RTL module reference): stops on any kernel interrupt; trig_start is
    # tied low because HLS IP exposes no start pulse (the host starts it over AXI).
    create_bd_cell -type module -reference axi_perf_timer perf_timer_0
    set_property -dict [list CONFIG.STOP_W $n] [get_bd_cells perf_timer_0]
    connect_bd_net $clk [get_bd_pins perf_timer_0/s_axi_aclk]
    connect_bd_net $aresetn [get_bd_pins perf_timer_0/s_axi_aresetn]
    connect_bd_intf_net [get_bd_intf_pins ctrl_ic/[format M%02d_AXI $n]] [get_bd_intf_pins perf_timer_0/s_axi]
    set tie [create_bd_cell -type ip -vlnv xilinx.com:ip:xlconstant tie_lo]
    set_property -dict [list CONFIG.CONST_VAL {0} CONFIG.CONST_WIDTH {1}] $tie
    connect_bd_net [get_bd_pins tie_lo/dout] [get_bd_pins perf_timer_0/trig_start]

    # PYNQ's interrupt support needs an axi_intc whose irq drives pl_ps_irq0.
    set intc [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_intc axi_intc_0]
    set_property -dict [list CONFIG.C_IRQ_CONNECTION {1}] $intc
    connect_bd_net $clk [get_bd_pins axi_intc_0/s_axi_aclk]
    connect_bd_net $aresetn [get_bd_pins axi_intc_0/s_axi_aresetn]
    connect_bd_intf_net [get_bd_intf_pins ctrl_ic/[format M%02d_AXI [expr {$n + 1}]]] \
        [get_bd_intf_pins axi_intc_0/s_axi]
    connect_bd_net [get_bd_pins irq_concat/dout] [get_bd_pins axi_intc_0/intr] \
        [get_bd_pins perf_timer_0/trig_stop]
    connect_bd_net [get_bd_pins axi_intc_0/irq] [get_bd_pins zynq_ultra_ps_e_0/pl_ps_irq0]

    # Every master sees every slave it is connected to; PYNQ reads the map from the .hwh.
    assign_bd_address
    validate_bd_design
    save_bd_design
}
