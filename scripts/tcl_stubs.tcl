# Run a Vivado / Vitis HLS Tcl script in plain tclsh with every tool command stubbed.
#
#   tclsh scripts/tcl_stubs.tcl <report.json> <script.tcl> [script args...]
#
# Tool commands are recorded, not run. A command that is neither Tcl nor in the known
# list below is recorded as an error (a typo, or a command we have not vetted) and the
# script carries on so one run reports all of them. The report (JSON) holds:
#   calls     [[cmd, arg, ...], ...] in order (set_property -dict is split per key)
#   unknown   [[cmd, arg, ...], ...]
#   sourced   files read with `source`;  copied  [[src, dst], ...] from `file copy`
#   completed true if the script ran to its end (or called exit 0)
#   error     the error message if it stopped on an error, else ""
# Environment: STUB_VIVADO_VERSION is what `version -short` returns (default: the
# pinned release for the PYNQ image, from overlays/zcu104/vivado_pin.tcl).

namespace eval ::stub {
    variable calls {}
    variable unknown_calls {}
    variable sourced {}
    variable copied {}
    variable exit_code ""
    variable here [file dirname [file normalize [info script]]]
    # Commands the spynq scripts may use: Vitis HLS, then Vivado project/IPI/run.
    variable known {
        open_project set_top add_files open_solution close_solution close_project
        set_part create_clock set_clock_uncertainty config_interface config_compile
        config_export config_rtl config_dataflow config_schedule csim_design
        csynth_design cosim_design export_design set_directive_interface
        set_directive_pipeline set_directive_dataflow
        version create_project current_project get_projects set_property get_property
        get_board_parts get_parts update_ip_catalog get_ipdefs update_compile_order
        create_bd_design current_bd_design open_bd_design create_bd_cell get_bd_cells
        get_bd_pins get_bd_intf_pins get_bd_ports get_bd_intf_ports get_bd_nets
        get_bd_addr_segs get_bd_addr_spaces create_bd_port create_bd_intf_port
        connect_bd_net connect_bd_intf_net apply_bd_automation assign_bd_address
        validate_bd_design save_bd_design write_bd_tcl generate_target make_wrapper
        get_files current_fileset get_filesets import_files launch_runs wait_on_run
        reset_run get_runs open_run report_utilization report_timing_summary
        startgroup endgroup set_msg_config set_param
    }
    # Options of the Vitis HLS commands whose option strings the scripts build (UG1399,
    # 2022.1 and later): an option not listed is recorded as unknown, like a command.
    variable options [dict create \
        config_interface {-clock_enable -default_slave_interface -m_axi_addr64
            -m_axi_alignment_byte_size -m_axi_auto_max_ports -m_axi_buffer_impl
            -m_axi_conservative_mode -m_axi_latency -m_axi_max_bitwidth -m_axi_min_bitwidth
            -m_axi_max_read_burst_length -m_axi_max_write_burst_length -m_axi_max_widen_bitwidth
            -m_axi_num_read_outstanding -m_axi_num_write_outstanding -m_axi_offset -register_io
            -s_axilite_data64} \
        create_clock {-period -name} \
        csim_design {-O -argv -clean -ldflags -mflags -setup} \
        cosim_design {-rtl -trace_level -argv -O -tool -ldflags -setup -wave_debug} \
        open_solution {-reset -flow_target} \
        export_design {-format -rtl -vendor -library -version -ipname -display_name -description
            -flow -output -taxonomy}]
    # Properties the scripts test after a run: a finished, timing-clean implementation.
    variable props [dict create PROGRESS 100% STATUS {write_bitstream Complete!} \
                        STATS.WNS 0.125 STATS.THS 0.000]
    variable version
    if {[info exists ::env(STUB_VIVADO_VERSION)]} {
        set version $::env(STUB_VIVADO_VERSION)
    } else {
        namespace eval :: [list source [file join $here .. overlays zcu104 vivado_pin.tcl]]
        set version [spynq_pin::vivado]
    }
}

proc ::stub::record {cmd args} {
    variable calls
    # Split `set_property -dict {k v ...} obj` into one record per key for easy checks.
    if {$cmd eq "set_property" && [lindex $args 0] eq "-dict"} {
        foreach {k v} [lindex $args 1] {
            lappend calls [list set_property $k $v {*}[lrange $args 2 end]]
        }
        return
    }
    lappend calls [list $cmd {*}$args]
}

# What a stubbed command returns: enough for the scripts' own checks to pass.
proc ::stub::result {cmd args} {
    variable version; variable props
    switch -glob -- $cmd {
        version { return [expr {"-short" in $args ? $version : "Vivado v$version (64-bit)"}] }
        get_property {
            set name [lindex [lsearch -all -inline -not -glob $args -*] 0]
            return [expr {[dict exists $props $name] ? [dict get $props $name] : "<$name>"}]
        }
        create_* - get_* - current_* {
            # Objects are named by their last plain argument, e.g. the cell name.
            set plain [lsearch -all -inline -not -glob $args -*]
            return [expr {[llength $plain] ? [lindex $plain end] : "<$cmd>"}]
        }
        default { return "" }
    }
}

# Any command not defined by Tcl lands here.
rename ::unknown ::stub::tcl_unknown
proc ::unknown {cmd args} {
    set cmd [string trimleft $cmd :]
    if {[dict exists $::stub::options $cmd]} {
        foreach a $args {
            if {[string match -* $a] && ![string is double $a] && $a ni [dict get $::stub::options $cmd]} {
                lappend ::stub::unknown_calls [list $cmd $a]
            }
        }
    }
    if {$cmd in $::stub::known} {
        ::stub::record $cmd {*}$args
        return [::stub::result $cmd {*}$args]
    }
    lappend ::stub::unknown_calls [list $cmd {*}$args]
    return ""
}

# Wrap the Tcl commands whose file arguments the tests check.
rename ::source ::stub::tcl_source
proc ::source {args} {
    lappend ::stub::sourced [file normalize [lindex $args end]]
    uplevel 1 [list ::stub::tcl_source {*}$args]
}
rename ::file ::stub::tcl_file
proc ::file {sub args} {
    if {$sub eq "copy"} {
        set plain [lsearch -all -inline -not -glob $args -*]
        lappend ::stub::copied [list [file normalize [lindex $plain 0]] [file normalize [lindex $plain 1]]]
    }
    uplevel 1 [list ::stub::tcl_file $sub {*}$args]
}
# `exit` ends the script, not tclsh, so the report still gets written.
rename ::exit ::stub::tcl_exit
proc ::exit {{code 0}} {
    set ::stub::exit_code $code
    return -code error -errorcode [list STUB_EXIT $code] "exit $code"
}

proc ::stub::json {value} {
    return "\"[string map {\\ \\\\ \" \\\" \n \\n \r \\r \t \\t} $value]\""
}
proc ::stub::json_list {items {depth 1}} {
    set out {}
    foreach it $items {
        lappend out [expr {$depth > 1 ? [json_list $it [expr {$depth - 1}]] : [json $it]}]
    }
    return "\[[join $out ,]\]"
}

# ---- main ------------------------------------------------------------------------
if {[llength $argv] < 2} {
    puts stderr "usage: tclsh tcl_stubs.tcl <report.json> <script.tcl> \[args...\]"
    ::stub::tcl_exit 2
}
set ::stub::report [lindex $argv 0]
set ::stub::script [file normalize [lindex $argv 1]]
set argv [lrange $argv 2 end]
set argc [llength $argv]
set ::stub::status [catch {uplevel #0 [list source $::stub::script]} ::stub::msg ::stub::opts]
set ::stub::completed [expr {$::stub::status != 1 ||
    ([lindex [dict get $::stub::opts -errorcode] 0] eq "STUB_EXIT" && $::stub::exit_code == 0)}]
set ::stub::error [expr {$::stub::completed ? "" : $::stub::msg}]

set fh [open $::stub::report w]
puts $fh "\{"
puts $fh "\"script\": [::stub::json $::stub::script],"
puts $fh "\"completed\": [expr {$::stub::completed ? "true" : "false"}],"
puts $fh "\"error\": [::stub::json $::stub::error],"
puts $fh "\"exit_code\": [::stub::json $::stub::exit_code],"
puts $fh "\"calls\": [::stub::json_list $::stub::calls 2],"
puts $fh "\"unknown\": [::stub::json_list $::stub::unknown_calls 2],"
puts $fh "\"sourced\": [::stub::json_list $::stub::sourced],"
puts $fh "\"copied\": [::stub::json_list $::stub::copied 2]"
puts $fh "\}"
close $fh
::stub::tcl_exit [expr {$::stub::completed ? 0 : 1}]
