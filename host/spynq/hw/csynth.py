"""Read Vitis HLS csynth reports (the XML files hls/common/run_hls_common.tcl copies to
build/hls/<top>/reports/): the achieved II and depth of each labelled loop, and the
resources of the top, so the cycle models and the ledger can use real figures."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

RESOURCES = {"URAM": "URAM", "BRAM_18K": "BRAM36", "DSP": "DSP", "LUT": "LUT", "FF": "FF"}


def _files(path: Path) -> list[Path]:
    path = Path(path)
    return sorted(path.glob("*csynth*.xml")) if path.is_dir() else [path]


def _int(el, tag):
    x = el.find(tag)
    return int(x.text) if x is not None and x.text and x.text.strip().isdigit() else None


def loop_schedule(reports: Path, names) -> dict:
    """{label: (II, depth)} for every loop of `names` the report(s) give both for.

    Vitis lists loops under SummaryOfLoopLatency, as an element named after the label
    (LOAD, MSG, RUN, sometimes with a suffix) or as <Loop><Name>label</Name>; since 2021
    a pipelined loop is also its own module, <top>_Pipeline_<label>, with its own file.
    """
    out = {}
    for f in _files(reports):
        module = re.search(r"_Pipeline_(\w+?)(?:_csynth)?\.xml$", f.name)
        for el in ET.parse(f).getroot().iter():
            ii, depth = _int(el, "PipelineII"), _int(el, "PipelineDepth")
            if ii is None or depth is None:
                continue
            name_el = el.find("Name")
            label = (name_el.text if name_el is not None and name_el.text else el.tag).split("_VITIS_LOOP")[0]
            for cand in (label, module.group(1) if module else None):
                for n in names:
                    if cand and (cand == n or cand.startswith(n + "_")):
                        out[n] = (ii, depth)
    return out


def loop_depths(report_xml: Path, defaults: dict) -> dict:
    """`defaults` (label -> depth) with the depths the report gives."""
    found = loop_schedule(report_xml, tuple(defaults))
    return {n: found[n][1] if n in found else d for n, d in defaults.items()}


def resources(report_xml: Path) -> dict:
    """The top's resource estimate (URAM, BRAM36, DSP, LUT, FF) from a csynth.xml."""
    res = ET.parse(report_xml).getroot().find(".//AreaEstimates/Resources")
    if res is None:
        return {}
    out = {}
    for tag, name in RESOURCES.items():
        v = _int(res, tag)
        if v is not None:
            out[name] = v / 2 if tag == "BRAM_18K" else v
    return out
