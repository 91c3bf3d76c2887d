"""Read a Vitis HLS csynth report (the XML that hls/common/run_hls_common.tcl copies to
build/hls/<top>/reports/) so the cycle models can use real pipeline depths."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def loop_depths(report_xml: Path, defaults: dict) -> dict:
    """Pipeline depth of each labelled loop, `defaults` where the report has none.

    Vitis writes each pipelined loop under SummaryOfLoopLatency with a PipelineDepth
    element, named after the loop label (LOAD, MSG, RUN, ...), sometimes with a suffix.
    """
    depths = dict(defaults)
    for el in ET.parse(report_xml).getroot().iter():
        depth = el.find("PipelineDepth")
        if depth is None or depth.text is None or not depth.text.strip().isdigit():
            continue
        label = el.tag.split("_VITIS_LOOP")[0]
        for name in depths:
            if label == name or label.startswith(name + "_"):
                depths[name] = int(depth.text)
    return depths
