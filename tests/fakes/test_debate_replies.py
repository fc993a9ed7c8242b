"""The fake servers' debate replies speak of the prompt's ticker and numbers, and fit the reply schemas."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from actors.core.prompts import build_messages
from actors.fakes.debate_replies import parse_setup
from actors.fakes.ollama_replies import reply_content
from actors.fakes.ollama_schema import violations
from actors.llm.structured import json_schema
from messages.convert import structure
from messages.debate import AgentRole, RiskAssessment, Stance, Thesis
from messages.market import OptionType
from messages.scan import Catalyst, Direction, OptionPick, ScoreComponent, TickerResult

AS_OF = dt.date(2026, 7, 24)


def _result(ticker: str = "NVDA", *, option: bool = True) -> TickerResult:
    pick = OptionPick(contract=f"{ticker}260918C00520000", type=OptionType.CALL, strike=520.0,
                      expiry=dt.date(2026, 9, 18), dte=56, delta=0.3585, bid=17.87, ask=19.3, mid=18.585,
                      open_interest=1719.0, volume=5.0, iv=0.448, greeks_source="chain")
    return TickerResult(
        ticker=ticker, rank=3, score=75.2, technical_score=80.2, direction=Direction.BULLISH,
        components=(ScoreComponent("trend", 1.0, 0.25, "close +20.3% vs SMA20"),
                    ScoreComponent("relative_volume", 0.29, 0.15, "last 5 bars at 1.29x")),
        catalysts=(Catalyst("earnings_before_expiry", "earnings 2026-09-10 in 48 days", -5.0, dt.date(2026, 9, 10)),),
        last_close=477.56, as_of=AS_OF, option=pick if option else None,
        no_option_reason=None if option else "none with open interest >= 100",
    )


def _ask(role: AgentRole, result: TickerResult, seed: int, **theses) -> str:
    messages = build_messages(role, result, **theses)
    schema = json_schema(Thesis if role is not AgentRole.RISK else RiskAssessment)
    request = {"messages": [{"role": r, "content": c} for r, c in messages], "format": schema}
    content = reply_content(request, rng=random.Random(seed), number=0, malformed=False)
    assert violations(json.loads(content), schema) == []
    return content


def test_the_prompt_facts_are_read_back():
    """parse_setup reads ticker, score, rank, direction, components, catalysts and the contract's quotes."""
    text = build_messages(AgentRole.BULL, _result())[1][1]
    setup = parse_setup(text)
    assert setup is not None
    assert (setup.ticker, setup.score, setup.technical, setup.rank, setup.direction) == ("NVDA", 75.2, 80.2, 3, "bullish")
    assert [c.name for c in setup.components] == ["trend", "relative_volume"]
    assert setup.catalysts == ("earnings_before_expiry",)
    c = setup.contract
    assert (c.type, c.strike, c.expiry, c.dte, c.mid, c.open_interest, c.iv) == (
        "CALL", 520.0, "2026-09-18", 56, 18.59, "1,719", "45%")
    assert parse_setup("no ticker in here") is None


@pytest.mark.parametrize("seed", range(40))
def test_bull_bear_and_risk_speak_of_the_ticker_and_its_numbers(seed):
    """Over 40 seeds: each reply is a valid document naming the ticker; the bull cites the break-even, the bear the
    spread and the earnings, the risk manager both convictions; the verdict follows the convictions."""
    result = _result(random.Random(seed).choice(["NVDA", "AAPL", "BRK.B", "X"]))
    bull = structure(json.loads(_ask(AgentRole.BULL, result, seed)), Thesis)
    assert result.ticker in bull.summary and "538.59" in " ".join(bull.key_points)  # 520 + 18.59
    bear = structure(json.loads(_ask(AgentRole.BEAR, result, seed, bull=bull)), Thesis)
    said = " ".join(bear.key_points)
    assert result.ticker in bear.summary and "7.7% spread" in said and "earnings" in said
    assert bear.stance is Stance.BEARISH
    risk = structure(json.loads(_ask(AgentRole.RISK, result, seed, bull=bull, bear=bear)), RiskAssessment)
    assert result.ticker in risk.summary
    assert "must rise above 538.59 by 2026-09-18 for the CALL 520" in " ".join(risk.main_risks)
    assert f"bull {bull.conviction:.2f} vs bear {bear.conviction:.2f}" in risk.summary
    edge = bull.conviction - bear.conviction
    expected = "take" if edge > 0.15 else "avoid" if edge < -0.1 else "adjust"
    assert risk.verdict.value == expected


def test_a_ticker_without_a_contract_is_argued_without_one():
    """No contract in the prompt: the replies say so instead of inventing one."""
    result = _result(option=False)
    bull = structure(json.loads(_ask(AgentRole.BULL, result, 1)), Thesis)
    assert "no contract qualified" in bull.summary
    bear = structure(json.loads(_ask(AgentRole.BEAR, result, 1, bull=bull)), Thesis)
    risk = structure(json.loads(_ask(AgentRole.RISK, result, 1, bull=bull, bear=bear)), RiskAssessment)
    assert "no contract qualified for NVDA" in " ".join(risk.main_risks)
