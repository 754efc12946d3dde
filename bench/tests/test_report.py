"""The harness's arithmetic and outputs: RESULT parsing, medians, ratios, the table, the JSON and chart."""
import json

import loadgen
import report
from servers import OURS


def test_parse_result_reads_the_last_result_line_as_numbers():
    text = "READY conns=2\nRESULT mode=echo msgs=10 secs=1.00 msgs_per_s=10 cpu_pct=12.5\n"
    assert loadgen.parse_result(text) == {"mode": "echo", "msgs": 10.0, "secs": 1.0,
                                          "msgs_per_s": 10.0, "cpu_pct": 12.5}


def test_parse_result_without_result_line_is_empty():
    assert loadgen.parse_result("wsload: host must be an IPv4 address\n") == {}


def test_summarize_takes_medians_of_successful_runs_and_counts_failures():
    runs = [{"msgs_per_s": 10.0, "cpu_pct": 50.0}, {"msgs_per_s": 30.0, "cpu_pct": 70.0},
            {"msgs_per_s": 20.0, "cpu_pct": 60.0}, {"error": "boom"}]
    med = report.summarize(runs)
    assert med["msgs_per_s"] == 20.0 and med["cpu_pct"] == 60.0
    assert med["rounds"] == 3 and med["failed"] == 1


def test_summarize_of_only_failures_keeps_the_error():
    assert report.summarize([{"error": "did not start"}])["error"] == "did not start"


def _doc(ours_value):
    results = {"echo_64": {"picows": {"median": {"msgs_per_s": 200.0, "cpu_pct": 95.0}}}}
    if ours_value is not None:
        results["echo_64"][OURS] = {"median": {"msgs_per_s": ours_value, "cpu_pct": 20.0}}
    doc = {"meta": {"rounds": 1, "secs": 1.0, "short": True}, "skipped": {}, "results": results}
    doc["ratios"] = report.ratios(results)
    return doc


def test_ratio_is_ours_over_the_peer():
    assert report.ratios(_doc(50.0)["results"]) == {"echo_64": {"picows": 0.25}}


def test_table_shows_ratio_and_marks_a_saturated_load_generator():
    text = report.table(_doc(50.0))
    picows_row = next(line for line in text.splitlines() if "picows" in line)
    assert ">= 200 msg/s" in picows_row and "0.25x" in picows_row and "95%" in picows_row


def test_table_says_n_a_and_why_when_this_project_is_skipped():
    doc = _doc(None)
    doc["skipped"][OURS] = "not ready yet"
    text = report.table(doc)
    assert "n/a" in next(line for line in text.splitlines() if "picows" in line)
    assert "skipped %s: not ready yet" % OURS in text


def test_json_and_chart_are_written(tmp_path):
    doc = _doc(50.0)
    report.write_json(doc, tmp_path / "latest.json")
    assert json.loads((tmp_path / "latest.json").read_text())["ratios"]["echo_64"]["picows"] == 0.25
    report.write_chart(doc, tmp_path / "latest.png")
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
