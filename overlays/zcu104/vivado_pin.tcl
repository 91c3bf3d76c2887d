# Which Vivado release builds the overlay, per PYNQ image running on the ZCU104.
#
# Why pin: PYNQ parses the .hwh and loads the .bit with the image's own pynq release
# and device tree; AMD builds every image's overlays with one Vivado release and the
# PYNQ docs ask for the matching tools ("be careful not to mix and match versions").
# Evidence (PYNQ repositories, pull requests and release notes):
#   PYNQ v3.0.x "Belfast" (Oct 2022): Vivado/PetaLinux 2022.1; the v3.0 block-design
#     Tcl in Xilinx repos checks `scripts_vivado_version 2022.1`; RFSoC-PYNQ: "design
#     files ... compatible with Xilinx Vivado 2022.1, and PYNQ v3.0.0 and later".
#   PYNQ v3.1 "Carlisle" (Jul 2025): Vivado 2024.1 (Xilinx/PYNQ PR #1470 "docs update
#     to reflect Vivado 2024.1"; RFSoC4x2-BSP PR #2 "2024.1 BSP, required for PYNQ v3.1";
#     PYNQ-ZU PR #32 "Update base overlay to Vivado 2024.1").
#   PYNQ v4.0 "Verona": release notes "All overlays built with Vivado 2025.2".
# Default: the v3.0.1 ZCU104 image (zcu104_v3.0.1), so Vivado 2022.1. Pick another
# image with SPYNQ_PYNQ_IMAGE=3.1 (or 4.0); the check then wants that image's Vivado.

namespace eval spynq_pin {
    variable vivado_for_image {3.0 2022.1  3.1 2024.1  4.0 2025.2}
    variable default_image 3.0
}

# The PYNQ image the overlay targets ($SPYNQ_PYNQ_IMAGE or the default).
proc spynq_pin::image {} {
    variable default_image
    expr {[info exists ::env(SPYNQ_PYNQ_IMAGE)] ? $::env(SPYNQ_PYNQ_IMAGE) : $default_image}
}

# The pinned Vivado release for an image; unknown images fail, listing the known ones.
proc spynq_pin::vivado {{img {}}} {
    variable vivado_for_image
    if {$img eq ""} { set img [image] }
    if {![dict exists $vivado_for_image $img]} {
        error "spynq: no pinned Vivado for PYNQ image '$img' (known: [dict keys $vivado_for_image])"
    }
    dict get $vivado_for_image $img
}

# Fail unless `actual` (from `version -short`) is the pinned release; patch releases
# such as 2022.1.2 count as 2022.1 because they only add devices and fixes.
proc spynq_pin::check {actual} {
    set img [image]
    set want [vivado $img]
    if {![regexp "^[string map {. \\.} $want](\\.\[0-9\]+)*\$" $actual]} {
        error "spynq: this overlay targets the PYNQ $img image, whose overlays are built\
               with Vivado $want, but this is Vivado $actual. Source the Vivado $want\
               settings64.sh, or set SPYNQ_PYNQ_IMAGE to the image on your board\
               ([dict keys $spynq_pin::vivado_for_image])."
    }
    puts "spynq: Vivado $actual matches PYNQ $img image (pinned $want)"
    return $want
}
