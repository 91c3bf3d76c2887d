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
