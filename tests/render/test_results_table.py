"""The ranked table at 80 columns (and others): no number is ever cut, columns give way by priority."""

from __future__ import annotations

import io
import re

import pytest

from actors.render.results import RESULT_COLUMNS, result_lines, rows_to_show, summary_lines
from actors.render.table import Column, layout
from actors.render.width import DEFAULT_COLUMNS, output_width
from actors.report import debate_cell
from tests.render.sample_report import RUN_ID, report

_DATES = re.compile(r"\d{4}-\d{2}-\d{2}|\b\d{2}-\d{2}\b")
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


def _tokens(text: str) -> list[str]:
    return _NUMBER.findall(_DATES.sub(" ", text.replace(RUN_ID, " ")))


def _whole_numbers(row: dict) -> dict[str, str]:
    """Each number a column may show, formatted as the table formats it."""
    out = {"rank": str(row["rank"]), "score": f"{row['score']:.1f}"}
    option = row["option"]
    if option:
        out |= {"strike": f"{option['strike']:g}", "dte": str(option["dte"]), "delta": f"{option['delta']:+.2f}",
                "mid": f"{option['mid']:.2f}", "OI": f"{option['open_interest']:,.0f}"}
    if row["debate"]:
        out["conviction"] = f"{row['debate']['conviction']:.2f}"
    for i, token in enumerate(_tokens(row["no_option_reason"] or "")):
        out[f"reason{i}"] = token  # "none with open interest >= 100"
    return out


@pytest.mark.parametrize("width", [80, 60, 100, 132])
def test_no_number_is_cut_at_any_width(width):
    """Over 60 seeds of awkward rows: every number token in the table is one of the row's numbers, whole;
    rank, score and conviction are always there; no line is wider than the width."""
    for seed in range(60):
        rep = report(seed)
        lines = result_lines(rep, width=width, top=25)
        table = lines[1:lines.index(next(line for line in lines if line.startswith("legend:")))]
        allowed = {value.lstrip("+") for r in rep["results"] for value in _whole_numbers(r).values()}
        allowed |= {value for r in rep["results"] for value in _whole_numbers(r).values()}
        for token in _tokens("\n".join(table[2:])):
            assert token in allowed or token.lstrip("+-") in allowed, (seed, width, token, "\n".join(table))
        body = "\n".join(table)
        for r in rep["results"]:
            numbers = _whole_numbers(r)
            for key in ("rank", "score", "conviction"):
                if key in numbers:
                    assert re.search(rf"(?<![\d.]){re.escape(numbers[key])}(?![\d.])", body), (seed, key, body)
        assert max(len(line) for line in lines) <= width, (seed, "\n".join(lines))


def test_at_80_columns_open_interest_goes_first_and_mid_stays():
    """At 80 columns the least important column (OI) is dropped; rank, ticker, score, contract, mid and the
    verdict with conviction stay; at 132 every column is shown."""
    rep = report(3)
    narrow = "\n".join(result_lines(rep, width=80, top=25))
    wide = "\n".join(result_lines(rep, width=132, top=25))
    header_narrow = next(line for line in narrow.splitlines() if line.lstrip().startswith("#"))
    header_wide = next(line for line in wide.splitlines() if line.lstrip().startswith("#"))
    for name in ("ticker", "score", "contract", "mid", "verdict"):
        assert name in header_narrow
    assert "OI" not in header_narrow
    for name in ("delta", "mid", "OI", "flags", "dir"):
        assert name in header_wide


def test_the_verdict_column_says_conviction():
    """The debate number is labelled conviction (header and legend)."""
    text = "\n".join(result_lines(report(1), width=80, top=25))
    assert "conviction" in text.splitlines()[2] + text.splitlines()[3]
    assert "conviction 0-1" in text


def test_debated_rows_below_the_top_are_still_shown():
    """--top 2 with debates on rows 1..4: rows 3 and 4 are shown too, and the 'top N of M' line counts them."""
    rep = report(5, rows=12, debated=4)
    shown = rows_to_show(rep["results"], 2)
    assert [r["rank"] for r in shown] == [1, 2, 3, 4]
    text = "\n".join(result_lines(rep, width=100, top=2))
    assert "(top 4 of 12 ranked tickers" in text


def test_a_word_longer_than_its_column_is_never_split():
    """A wrapping column wraps at spaces only; a long token stays whole even past the width."""
    columns = [Column(header="n", cell=lambda r: r["n"], align="right"),
               Column(header="text", cell=lambda r: r["t"], wrap=True)]
    lines = layout(columns, [{"n": "123456789", "t": "alpha 1234567.89 beta"}], 14)
    assert any("1234567.89" in line for line in lines)
    assert "123456789" in lines[2]


def test_columns_are_dropped_least_important_first():
    """Too narrow: the highest priority number goes first; priority 0 is never dropped."""
    columns = [Column(header="keep", cell=lambda r: "k" * 6),
               Column(header="second", cell=lambda r: "s" * 6, priority=1),
               Column(header="first", cell=lambda r: "f" * 6, priority=2)]
    assert layout(columns, [{}], 30)[0].split() == ["keep", "second", "first"]
    assert layout(columns, [{}], 16)[0].split() == ["keep", "second"]
    assert layout(columns, [{}], 5)[0].split() == ["keep"]


def test_every_result_column_has_a_header_and_reads_a_row_without_optional_keys():
    """The spec list renders rows that lack news / quote_age_s / data_flags (other helpers' keys)."""
    rep = report(2)
    for column in RESULT_COLUMNS:
        assert column.header
        for r in rep["results"]:
            assert isinstance(column.cell(r), str)


def test_optional_keys_show_when_present():
    """quote_age_s adds an age column; data_flags join the flags."""
    rep = report(4, rows=3, debated=0)
    rep["results"][0]["quote_age_s"] = 95.0
    rep["results"][0]["data_flags"] = ["mixed-dates"]
    text = "\n".join(result_lines(rep, width=132, top=25))
    assert "age" in text and "2m*" in text and "mixed-dates" in text  # 95 s, rounded; * = mixed dates


def test_skipped_debates_do_not_repeat_the_reason_in_every_row():
    """Ten rows skipped for one reason: the cell says 'skipped'; the reason is printed once, on the status line."""
    assert debate_cell({"status": "skipped", "reason": "llm_unreachable: cannot reach x", "saved": True}) == "skipped"
    rep = report(6, rows=5, debated=0)
    reason = "llm_unreachable: cannot reach http://127.0.0.1:11434: ConnectionError"
    for r in rep["results"]:
        r["debate"] = {"status": "skipped", "verdict": None, "conviction": None, "reason": reason, "theses": [],
                       "saved": True}
    rep |= {"status": "PARTIAL", "reason": reason, "debate": {"requested": 5, "completed": 0, "skipped_reason": reason}}
    text = "\n".join(result_lines(rep, width=200, top=25) + summary_lines(rep, width=200))
    assert text.count("cannot reach") == 1
    assert "ollama serve" in text


def test_a_failed_run_lists_its_errors_under_the_table():
    """FAILED with errors: each error on its own line, the advice points at them."""
    rep = report(7, rows=0, debated=0)
    rep |= {"status": "FAILED", "reason": "no ticker produced usable data (2 errors)", "results": [],
            "errors": [{"ticker": "ZZZZ", "piece": "history", "kind": "unknown_ticker", "message": "unknown ticker"},
                       {"ticker": "QQQ", "piece": "history", "kind": "unknown_ticker", "message": "not in snapshot"}],
            "debate": {"requested": 0, "completed": 0, "skipped_reason": "run failed before the debate"}}
    text = "\n".join(summary_lines(rep, width=80))
    assert "ZZZZ history: unknown ticker" in text and "QQQ history: not in snapshot" in text
    assert "errors above" in text


def test_output_width_honours_columns_and_defaults_to_100_when_piped():
    """COLUMNS wins; not a terminal and no COLUMNS: 100; never below 40."""
    pipe = io.StringIO()
    assert output_width(pipe, {"COLUMNS": "80"}) == 80
    assert output_width(pipe, {}) == DEFAULT_COLUMNS == 100
    assert output_width(pipe, {"COLUMNS": "nonsense"}) == 100
    assert output_width(pipe, {"COLUMNS": "10"}) == 40


def test_a_short_form_that_fits_is_preferred_to_wrapping():
    """A column too narrow for 'adjust 0.97' on one line shows 'adj 0.97' rather than two lines."""
    columns = [Column(header="v", cell=lambda r: debate_cell(r["debate"]), wrap=True,
                      short=lambda r: debate_cell(r["debate"], short=True))]
    row = {"debate": {"status": "completed", "verdict": "adjust", "conviction": 0.97, "saved": True}}
    assert layout(columns, [row], 9)[2:] == ["adj 0.97"]
    assert layout(columns, [row], 40)[2:] == ["adjust 0.97"]


def test_a_failed_run_with_one_error_for_every_ticker_says_it_once():
    """A host down for 101 tickers: one line naming how many and a few of them, not 101 lines."""
    from actors.render.results import group_errors, summary_lines

    errors = [{"ticker": f"T{i:03d}", "piece": "history",
               "message": f"cdn.cboe.com is unreachable; not asked again for {59 - i % 2} s"} for i in range(101)]
    errors.append({"ticker": "ZZZZ", "piece": "history", "message": "unknown symbol ZZZZ"})
    assert [(p, len(t)) for p, _, t in group_errors(errors)] == [("history", 101), ("history", 1)]
    rep = report(1, rows=0, debated=0) | {"status": "FAILED", "reason": "no ticker produced usable data",
                                          "errors": errors}
    text = "\n".join(summary_lines(rep, width=100))
    assert text.count("cdn.cboe.com is unreachable") == 1
    assert "history of 101 tickers (T000, T001, T002, T003, T004 and 96 more)" in text
    assert "ZZZZ history: unknown symbol ZZZZ" in text
