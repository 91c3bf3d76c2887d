# Build one spynq ZCU104 overlay (block design, bitstream, .hwh) in Vivado batch mode:
#   vivado -mode batch -source overlays/zcu104/build_overlay.tcl [-tclargs <jobs>]
# (or scripts/build_overlay.sh NAME, which sets the environment below from
# overlays/zcu104/overlays.json):
#   SPYNQ_OVERLAY          the overlay's name (default "all")
#   SPYNQ_OVERLAY_KERNELS  its HLS tops in block-design order (default: all three)
# Needs the HLS IP of each of those kernels built for that overlay first
# (scripts/build_hls.sh NAME). Results: overlays/zcu104/spynq_<name>.bit and .hwh, the
# names the Python loader opens. The Vivado project lives in build/overlay/<name>/.

set here [file dirname [file normalize [info script]]]
set repo [file normalize [file join $here .. ..]]

# 1. Right Vivado for the PYNQ image on the board, before anything is created.
source [file join $here vivado_pin.tcl]
spynq_pin::check [version -short]

# Part, HLS clock, VLNVs and IP locations come from the HLS flow's one definition.
source [file join $repo hls common run_hls_common.tcl]

# HLS tops in the overlay, in interrupt/port order; a block-design instance is <top>_0.
set overlay  [expr {[info exists ::env(SPYNQ_OVERLAY)] ? $::env(SPYNQ_OVERLAY) : "all"}]
set KERNELS  [expr {[info exists ::env(SPYNQ_OVERLAY_KERNELS)] ? $::env(SPYNQ_OVERLAY_KERNELS) :
                    {stm_top lif_delay_top snnwm_top}}]

set design   spynq_$overlay
set build    $spynq_hls::build
set proj_dir [file join $build overlay $overlay]
set out_dir  [expr {[info exists ::env(SPYNQ_OVERLAY_OUT)] ? $::env(SPYNQ_OVERLAY_OUT) : $here}]
set jobs     [expr {[llength $argv] > 0 ? [lindex $argv 0] : 4}]
# PL clock = the clock the kernels were scheduled for (hls/common/spynq_platform.h):
# 187.5 MHz = IOPLL 1500 MHz / 8, which PYNQ can set again when it loads the overlay.
set pl_mhz   [expr {$spynq_hls::pl_khz / 1000.0}]
set hp_bits  128  ;# S_AXI_HP0_FPD width = the kernels' ap_uint<128> m_axi data width

# 2. Project on the ZCU104 board part (board files ship with Vivado).
create_project -force $design $proj_dir -part $spynq_hls::part
set board [lindex [lsort [get_board_parts -quiet -latest_file_version {xilinx.com:zcu104:part0:*}]] end]
if {$board eq ""} {
    error "spynq: Vivado has no ZCU104 board part (xilinx.com:zcu104:part0:*); install its board files"
}
set_property board_part $board [current_project]

# 3. HLS IP repositories, one per kernel, and the RTL timer source.
set repos {}
foreach top $KERNELS {
    set ip [spynq_hls::ip_dir $top $overlay]
    if {![file exists [file join $ip component.xml]]} {
        error "spynq: no exported IP for $top in $ip; run scripts/build_hls.sh $overlay first"
    }
    lappend repos $ip
}
set_property ip_repo_paths $repos [current_project]
update_ip_catalog
add_files -norecurse [file join $repo rtl axi_perf_timer.v]
update_compile_order -fileset sources_1

# 4. Block design, kept as a generated Tcl snapshot next to the project for review.
source [file join $here spynq_bd.tcl]
spynq_bd::create $design $KERNELS $pl_mhz $hp_bits
write_bd_tcl -force [file join $proj_dir ${design}_bd_snapshot.tcl]

# 5. Wrapper, synthesis, implementation, bitstream.
set bd_file [get_files ${design}.bd]
generate_target all $bd_file
# -import adds the generated HDL wrapper to the project's sources itself.
make_wrapper -files $bd_file -top -import
set_property top ${design}_wrapper [current_fileset]
update_compile_order -fileset sources_1
launch_runs impl_1 -to_step write_bitstream -jobs $jobs
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
    error "spynq: implementation did not finish: [get_property STATUS [get_runs impl_1]]"
}
# A bitstream that misses timing can corrupt results silently: refuse it.
set wns [get_property STATS.WNS [get_runs impl_1]]
if {$wns ne "" && $wns < 0} {
    error "spynq: timing not met at $pl_mhz MHz (WNS $wns ns); see $proj_dir/${design}.runs/impl_1"
}

# 6. Copy .bit and .hwh under the names the loader expects. Vivado 2020.2+ writes the
# hand-off under <proj>.gen/; older releases under <proj>.srcs/.
set bit [file join $proj_dir ${design}.runs impl_1 ${design}_wrapper.bit]
set hwh ""
foreach sub {gen srcs} {
    set f [file join $proj_dir ${design}.$sub sources_1 bd $design hw_handoff ${design}.hwh]
    if {[file exists $f]} { set hwh $f; break }
}
if {![file exists $bit] || $hwh eq ""} {
    error "spynq: missing build products (bit: $bit, hwh: [expr {$hwh eq {} ? {not found} : $hwh}])"
}
file mkdir $out_dir
file copy -force $bit [file join $out_dir ${design}.bit]
file copy -force $hwh [file join $out_dir ${design}.hwh]
puts "spynq: overlay written to [file join $out_dir ${design}.bit] and ${design}.hwh"
