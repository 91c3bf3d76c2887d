"""Pipeline depths are read from a csynth report by loop label (the XML shape Vitis HLS
writes: SummaryOfLoopLatency > <label> > PipelineDepth); unknown labels keep defaults.
The sample below is hand-written in that shape; no real report exists without Vitis."""
from spynq.hw.csynth import loop_depths

SAMPLE = """<profile><PerformanceEstimates><SummaryOfLoopLatency>
  <LOAD><TripCount>17000</TripCount><PipelineII>1</PipelineII><PipelineDepth>72</PipelineDepth></LOAD>
  <MSG_VITIS_LOOP_190_1><PipelineII>1</PipelineII><PipelineDepth>41</PipelineDepth></MSG_VITIS_LOOP_190_1>
  <OTHER><PipelineDepth>9</PipelineDepth></OTHER>
  <STORE><PipelineDepth>undef</PipelineDepth></STORE>
</SummaryOfLoopLatency></PerformanceEstimates></profile>"""


def test_loop_depths_by_label(tmp_path):
    xml = tmp_path / "csynth.xml"
    xml.write_text(SAMPLE)
    got = loop_depths(xml, {"LOAD": 70, "MSG": 34, "STORE": 70, "EVID": 22})
    assert got == {"LOAD": 72, "MSG": 41, "STORE": 70, "EVID": 22}


def test_ii_and_depth_replace_the_designed_schedule(tmp_path):
    """A report folder as build_hls.sh leaves it: the top's XML and one module file per
    pipelined loop (<top>_Pipeline_<label>_csynth.xml, Vitis 2021+)."""
    from spynq.hw import schedule

    (tmp_path / "stm_top_csynth.xml").write_text(SAMPLE)
    (tmp_path / "stm_top_Pipeline_EVID_csynth.xml").write_text(
        "<profile><PerformanceEstimates><SummaryOfLoopLatency><EVID><PipelineII>3</PipelineII>"
        "<PipelineDepth>25</PipelineDepth></EVID></SummaryOfLoopLatency></PerformanceEstimates></profile>")
    designed = schedule.declared("stm")
    got = schedule.with_csynth(designed, tmp_path)
    assert (got["LOAD"].ii, got["LOAD"].depth) == (1, 72)
    assert (got["MSG"].ii, got["MSG"].depth) == (1, 41)
    assert (got["EVID"].ii, got["EVID"].depth) == (3, 25)
    assert got["PARAMS"] == designed["PARAMS"]  # not in the report: designed figures stay
    assert "csynth" in got.label and "designed" in designed.label
