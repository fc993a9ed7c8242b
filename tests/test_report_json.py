"""--json output is streamed one row at a time and is byte for byte ``json.dumps`` of the report."""

import json

from actors.report import iter_json

REPORT = {
    "run_id": "r-1",
    "status": "PARTIAL",
    "reason": "3 of 10 debates did not finish \u2014 \"quoted\"",
    "seconds": 1.5,
    "phases": [{"name": "data_fetch", "seconds": 0.25, "detail": ""}],
    "results": [
        {"ticker": "AAA", "rank": 1, "score": 71.25, "option": None, "components": [{"name": "trend", "value": 0.5}]},
        {"ticker": "BBB", "rank": 2, "score": 1e-7, "option": {"strike": 150.0, "type": "call"}, "components": []},
    ],
    "errors": [],
    "debate": {"requested": 0, "completed": 0, "skipped_reason": None},
}


def test_iter_json_is_json_dumps_in_pieces():
    assert "".join(iter_json(REPORT)) == json.dumps(REPORT)


def test_iter_json_streams_results_from_a_generator_one_row_at_a_time():
    produced = []

    def rows():
        for row in REPORT["results"]:
            produced.append(row["ticker"])
            yield row

    pieces = iter_json({**REPORT, "results": rows()})
    seen = []
    for piece in pieces:
        seen.append(piece)
        if '"ticker": "AAA"' in piece:
            assert produced == ["AAA"]  # the second row is not built before the first is written
    assert "".join(seen) == json.dumps(REPORT)


def test_iter_json_of_no_results():
    report = {**REPORT, "results": []}
    assert json.loads("".join(iter_json(report))) == report
