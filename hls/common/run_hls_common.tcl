# Shared Vitis HLS flow for every spynq kernel (sourced by hls/<kernel>/run_hls.tcl).
#
#   vitis_hls -f hls/<kernel>/run_hls.tcl [-tclargs csim csynth ...]
#   SPYNQ_HLS_STEPS="csynth export" vitis_hls -f hls/<kernel>/run_hls.tcl
#
# Steps: csim csynth cosim export (default: all, always run in that order).
# A kernel is built for one overlay of overlays/zcu104/overlays.json, with that overlay's
# parameters (scripts/build_hls.sh passes both). Products, all under
# build/hls/<overlay>/<top>/ (build/ is git-ignored; see SPYNQ_BUILD_DIR):
#   prj/                      the Vitis HLS project (solution "zcu104")
#   prj/zcu104/impl/ip/       the exported IP: the repo overlays/zcu104 adds to Vivado
#   reports/*_csynth.xml      the csynth reports of the top and of every pipelined-loop
#                             module: II, depth and resources for spynq.hw.schedule and
#                             the resource ledger
#   reports/csynth.rpt, reports/<top>_cosim.rpt
# Optional environment:
#   SPYNQ_HLS_OVERLAY   the overlay the IP is for (default "default": the config defaults)
#   SPYNQ_HLS_DEFINES   its overlay parameters as -DNAME=value flags
#   SPYNQ_HLS_TB_ARGV   arguments passed to the testbench's main() in csim and cosim
#   SPYNQ_HLS_EXPORT_FLOW=syn|impl  run Vivado on the exported IP for real resources

# A constant of hls/common/spynq_platform.h (the one definition of the PL clock and the
# m_axi settings, also read by Python): `constexpr int NAME = <integer>;`.
proc spynq_hls_platform {name} {
    set f [open [file join [file dirname [file normalize [info script]]] spynq_platform.h]]
    set text [read $f]
    close $f
    if {![regexp "constexpr int $name = (\\d+);" $text -> value]} {
        error "spynq_hls: hls/common/spynq_platform.h defines no $name"
    }
    return $value
}

namespace eval spynq_hls {
    # The ZCU104's device and the PL clock the overlay gives (overlays/zcu104 uses the same).
    variable part      xczu7ev-ffvc1156-2-e
    variable pl_khz    [spynq_hls_platform SPYNQ_PL_CLOCK_KHZ]
    variable clock_ns  [format %.4f [expr {1e6 / $pl_khz}]]
    variable maxi_burst       [spynq_hls_platform SPYNQ_MAXI_BURST_BEATS]
    variable maxi_outstanding [spynq_hls_platform SPYNQ_MAXI_OUTSTANDING]
    variable maxi_latency     [spynq_hls_platform SPYNQ_MAXI_LATENCY]
    # VLNV parts: must equal spynq.hw.interface.KernelInterface (vendor/library/version).
    variable vendor    spynq
    variable library   hls
    variable version   1.0
    variable solution  zcu104
    variable all_steps {csim csynth cosim export}
    variable repo [file normalize [file join [file dirname [info script]] .. ..]]
    # Build products go to $SPYNQ_BUILD_DIR (default <repo>/build); tests use a temp dir.
    variable build [expr {[info exists ::env(SPYNQ_BUILD_DIR)] ?
                          [file normalize $::env(SPYNQ_BUILD_DIR)] : [file join $repo build]}]
    variable overlay [expr {[info exists ::env(SPYNQ_HLS_OVERLAY)] ? $::env(SPYNQ_HLS_OVERLAY) : "default"}]
    variable defines [expr {[info exists ::env(SPYNQ_HLS_DEFINES)] ? $::env(SPYNQ_HLS_DEFINES) : ""}]
}

# Steps to run: the -tclargs words, else $SPYNQ_HLS_STEPS, else all; unknown names fail.
proc spynq_hls::steps {words} {
    variable all_steps
    if {[llength $words] == 0 && [info exists ::env(SPYNQ_HLS_STEPS)]} {
        set words [split [string map {, " "} $::env(SPYNQ_HLS_STEPS)]]
    }
    # Drop empties and anything that looks like the tool's own arguments.
    set words [lsearch -all -inline -not -regexp $words {^$|^-|\.tcl$}]
    if {[llength $words] == 0 || $words eq "all"} { return $all_steps }
    foreach w $words {
        if {[lsearch -exact $all_steps $w] < 0} {
            error "spynq_hls: unknown step '$w' (known: $all_steps)"
        }
    }
    # keep the flow order whatever order the caller gave
    set out {}
    foreach s $all_steps {
        if {[lsearch -exact $words $s] >= 0} { lappend out $s }
    }
    return $out
}

# Shared with overlays/zcu104/build_overlay.tcl, which sources this file for them.
proc spynq_hls::vlnv {top} {
    variable vendor; variable library; variable version
    return "$vendor:$library:$top:$version"
}
# Where a kernel is built for an overlay (default: the one this run builds for).
proc spynq_hls::out_dir {top {for_overlay ""}} {
    variable build; variable overlay
    if {$for_overlay eq ""} { set for_overlay $overlay }
    return [file join $build hls $for_overlay $top]
}
proc spynq_hls::ip_dir {top {for_overlay ""}} {
    variable solution
    return [file join [out_dir $top $for_overlay] prj $solution impl ip]
}

# Copy a report if the tool produced it; a missing report is not fatal, only noted.
proc spynq_hls::copy_report {src dst_dir} {
    if {[file exists $src]} {
        file copy -force $src $dst_dir
        puts "spynq_hls: report [file join $dst_dir [file tail $src]]"
    } else {
        puts "spynq_hls: WARNING no report at $src"
    }
}

# The AXI settings every spynq kernel shares; kernels call it from their configure script.
proc spynq_hls::axi_defaults {} {
    variable maxi_burst; variable maxi_outstanding; variable maxi_latency
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
    # DDR through HP0 and the SmartConnect takes tens of cycles; telling the scheduler lets
    # it issue reads early instead of stalling on each one.
    config_interface -m_axi_latency $maxi_latency
    # Burst and outstanding settings once for every port: ports of one bundle with
    # different per-port options make Vitis ignore them all (message 200-466).
    config_interface -m_axi_max_read_burst_length $maxi_burst
    config_interface -m_axi_max_write_burst_length $maxi_burst
    config_interface -m_axi_num_read_outstanding $maxi_outstanding
    config_interface -m_axi_num_write_outstanding $maxi_outstanding
}

# Run the flow for one kernel.
#   top        HLS top function (also the IP name)
#   kernel_dir folder under hls/ holding the kernel sources
#   sources    kernel .cpp files, relative to hls/<kernel_dir>
#   testbench  testbench .cpp files, relative to hls/<kernel_dir>
#   configure  Tcl evaluated after the part and clock are set (config_* commands)
#   words      the -tclargs words (step selection)
proc spynq_hls::run {top kernel_dir sources testbench configure {words {}}} {
    variable part; variable clock_ns; variable vendor; variable library
    variable version; variable solution; variable repo; variable build
    variable overlay; variable defines

    set steps   [steps $words]
    set src_dir [file join $repo hls $kernel_dir]
    set inc_dir [file join $repo hls common]
    set out_dir [out_dir $top]
    set rpt_dir [file join $out_dir reports]
    file mkdir $rpt_dir
    puts "spynq_hls: $top for overlay '$overlay' ($defines) steps: $steps"

    # Headers are found through -I; adding them also lists them in the GUI project. The
    # overlay parameters (-D) go to the kernel and the testbench alike.
    set cflags [string trim "-I$inc_dir -I$src_dir $defines"]
    set tb_argv [expr {[info exists ::env(SPYNQ_HLS_TB_ARGV)] ? $::env(SPYNQ_HLS_TB_ARGV) : ""}]

    cd $out_dir
    open_project -reset prj
    set_top $top
    foreach f $sources { add_files [file join $src_dir $f] -cflags $cflags }
    foreach f [lsort [concat [glob -nocomplain -directory $src_dir *.h] \
                             [glob -nocomplain -directory $inc_dir *.h]]] {
        add_files $f -cflags $cflags
    }
    foreach f $testbench { add_files -tb [file join $src_dir $f] -cflags $cflags }

    # Re-synthesis starts clean; a later-steps-only run reuses the solution.
    if {[lsearch -exact $steps csynth] >= 0} {
        open_solution -reset $solution -flow_target vivado
    } else {
        open_solution $solution -flow_target vivado
    }
    set_part $part
    create_clock -period $clock_ns -name default
    uplevel #0 $configure

    set sol_dir [file join $out_dir prj $solution]
    foreach step $steps {
        switch -- $step {
            csim {
                if {$tb_argv ne ""} { csim_design -O -argv $tb_argv } else { csim_design -O }
            }
            csynth {
                csynth_design
                copy_report [file join $sol_dir syn report ${top}_csynth.xml] $rpt_dir
                copy_report [file join $sol_dir syn report csynth.rpt] $rpt_dir
                # One module per pipelined loop (Vitis 2021+): their II and depth.
                foreach f [glob -nocomplain -directory [file join $sol_dir syn report] ${top}_Pipeline_*_csynth.xml] {
                    copy_report $f $rpt_dir
                }
            }
            cosim {
                if {$tb_argv ne ""} {
                    cosim_design -rtl verilog -trace_level none -argv $tb_argv
                } else {
                    cosim_design -rtl verilog -trace_level none
                }
                copy_report [file join $sol_dir sim report ${top}_cosim.rpt] $rpt_dir
            }
            export {
                set opts [list -format ip_catalog -rtl verilog -vendor $vendor \
                          -library $library -version $version -ipname $top \
                          -display_name "spynq $top" \
                          -description "spynq HLS kernel $top (hls/$kernel_dir) for overlay $overlay: $defines"]
                if {[info exists ::env(SPYNQ_HLS_EXPORT_FLOW)]} {
                    lappend opts -flow $::env(SPYNQ_HLS_EXPORT_FLOW)
                }
                export_design {*}$opts
                set ip_dir [ip_dir $top]
                if {![file exists [file join $ip_dir component.xml]]} {
                    error "spynq_hls: export produced no IP in $ip_dir"
                }
                puts "spynq_hls: IP [vlnv $top] in $ip_dir"
            }
        }
    }
    close_project
}
