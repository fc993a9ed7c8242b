"""The per-ticker panel: every number whole at 80 columns, the debate in full, failures said as failures."""

from __future__ import annotations

import random

from actors.render.panel import break_even, panel_lines
from tests.render.sample_report import RUN_ID, report, row, thesis


def _panel(r: dict, width: int = 80) -> str:
    lines = panel_lines(r, run_id=RUN_ID, width=width, total=200)
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    return "\n".join(lines)


def test_the_panel_shows_score_contract_greeks_break_even_and_the_debate_at_80_columns():
    """Score and components, bid/ask/mid, IV, Greeks, break-even, DTE, as-of; bull, bear, risk with conviction,
    model, attempts and latency, each number whole."""
    r = report(11)["results"][0]
    option = r["option"] or {}
    text = _panel(r)
    expected = [f"score {r['score']:.1f} / 100", "as of 2026-07-24", "trend 0.81 x 0.25"]
    if option:
        expected += [f"bid {option['bid']:.2f}", f"ask {option['ask']:.2f}", f"mid {option['mid']:.2f}", "IV 44.8%",
                     f"({option['dte']} DTE)", f"{break_even(option):.2f}", f"open interest {option['open_interest']:,.0f}",
                     f"delta {option['delta']:+.3f}", "theta -0.2962", "vega +0.6988"]
    expected += ["Bull's case (for the trade): bullish, conviction 0.81",
                 "Bear's answer (against it): bearish, conviction 0.43",
                 f"Risk manager's verdict: adjust, conviction {r['debate']['conviction']:.2f}",
                 "model llama3.1:8b · 1 attempt · 1.23 s", "bull point one", "gap risk into the print"]
    for piece in expected:
        assert piece in text, (piece, text)


def test_break_even_is_strike_plus_premium_for_a_call_and_minus_for_a_put():
    """Bought at mid: a call breaks even at strike + mid, a put at strike - mid."""
    assert break_even({"type": "call", "strike": 100.0, "mid": 2.5}) == 102.5
    assert break_even({"type": "put", "strike": 100.0, "mid": 2.5}) == 97.5


def test_a_failed_agent_says_so_and_the_agents_after_it_never_ran():
    """Bear failed on a deadline: its line says FAILED with the kind and detail; risk says it never ran."""
    r = row(random.Random(1), 1, debated=False)
    r["debate"] = {"status": "failed", "verdict": None, "conviction": None, "reason": "bear: deadline",
                   "theses": [thesis("bull", conviction=0.7), thesis("bear", conviction=0.0, ok=False)], "saved": True}
    text = _panel(r)
    assert "debate: failed (bear: deadline)" in text
    assert "Bear's answer (against it): FAILED (deadline: no reply within 120 s)" in text
    assert "model llama3.1:8b · 3 attempts · 120.50 s" in text
    assert "Risk manager's verdict: never ran (the debate failed before it)" in text
    assert "conviction 0.00" not in text  # nothing is made up for the failed agent


def test_a_skipped_debate_and_an_undebated_ticker_say_why():
    """Skipped: the reason; not debated: why not (slots go to the top tickers with a contract)."""
    r = row(random.Random(2), 1, debated=False)
    r["debate"] = {"status": "skipped", "verdict": None, "conviction": None, "reason": "llm_unreachable: refused",
                   "theses": [], "saved": True}
    text = _panel(r)
    assert "debate: skipped (llm_unreachable: refused)" in text and "no agent ran" in text
    assert text.count("refused") == 1  # the reason once, not once per agent
    r["debate"] = None
    assert "not debated" in _panel(r)


def test_no_contract_says_why():
    """A row without a contract shows the reason."""
    r = row(random.Random(3), 1, debated=False, with_option=False)
    assert "contract: none (none with open interest >= 100)" in _panel(r)


def test_news_and_data_keys_from_other_sources_are_shown_when_present():
    """news (the articles that moved the score), quote_age_s and data_flags appear when the dict has them."""
    r = row(random.Random(4), 1, debated=False)
    r["news"] = [{"id": 7, "title": "Maker wins a big contract", "source": "rss", "url": "https://x/y",
                  "published_at": "2026-07-23", "sentiment": "positive", "impact": 0.8, "event_type": "contract",
                  "reasoning": "revenue visibility", "weight": 1.0, "points": 2.4}]
    r["quote_age_s"] = 42.0
    r["data_flags"] = ["mixed-dates"]
    text = _panel(r)
    assert "+2.40 points" in text and "Maker wins a big contract" in text and "revenue visibility" in text
    assert "quote 42 s old" in text and "mixed-dates" in text


def test_a_narrow_screen_wraps_text_but_keeps_numbers_whole():
    """At 50 columns long lines wrap at spaces; the contract symbol and convictions stay whole."""
    r = report(12)["results"][0]
    text = "\n".join(panel_lines(r, run_id=RUN_ID, width=50))
    if r["option"]:
        assert r["option"]["contract"] in text
    assert f"conviction {r['debate']['conviction']:.2f}" in text
