"""Contract selection on the real recorded Cboe AAPL chain (2026-07-24 close).

The chain is parsed minimally here on purpose: the production parser belongs to the providers,
and this test checks the selection rules against real quotes, not the parser.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from actors.core.options import select_contract
from messages.market import OptionChain, OptionQuote, OptionType
from messages.scan import Direction

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = (
    REPO / "actors" / "providers" / "snapshot_data" / "cboe" / "cboe_options_AAPL.json",
    Path("/work/shared/data/recorded/cboe/cboe_options_AAPL.json"),
)
AS_OF = dt.date(2026, 7, 24)
OCC = re.compile(r"^(?P<root>[A-Z.]+?)(?P<date>\d{6})(?P<cp>[CP])(?P<strike>\d{8})$")


def _quote(row: dict) -> OptionQuote:
    m = OCC.match(row["option"])
    assert m, row["option"]
    usable = row["iv"] > 0  # Cboe zero-fills every Greek (and iv) when it has none
    greek = lambda name: row[name] if usable else None  # noqa: E731
    return OptionQuote(
        contract=row["option"],
        ticker=m["root"],
        type=OptionType.CALL if m["cp"] == "C" else OptionType.PUT,
        strike=int(m["strike"]) / 1000,
        expiry=dt.datetime.strptime(m["date"], "%y%m%d").date(),
        bid=row["bid"],
        ask=row["ask"],
        last=row["last_trade_price"],
        volume=row["volume"],
        open_interest=row["open_interest"],
        iv=greek("iv"),
        delta=greek("delta"),
        gamma=greek("gamma"),
        theta=greek("theta"),
        vega=greek("vega"),
    )


@pytest.fixture(scope="module")
def aapl_chain() -> OptionChain:
    path = next((p for p in CANDIDATES if p.exists()), CANDIDATES[-1])
    doc = json.loads(path.read_text())
    data = doc["data"]
    return OptionChain(
        ticker=data["symbol"],
        as_of=dt.datetime(2026, 7, 24, 16, 0),
        underlying_price=data["current_price"],
        quotes=tuple(_quote(row) for row in data["options"]),
        source="cboe",
    )


def test_occ_symbol_parses_to_its_parts(aapl_chain):
    """AAPL260724C00110000 is the AAPL 2026-07-24 110 call."""
    first = aapl_chain.quotes[0]
    assert (first.contract, first.ticker, first.type, first.expiry, first.strike) == (
        "AAPL260724C00110000",
        "AAPL",
        OptionType.CALL,
        dt.date(2026, 7, 24),
        110.0,
    )
    assert aapl_chain.underlying_price == 333.8


def test_bullish_selection_on_real_chain_is_a_liquid_call_in_window(aapl_chain):
    """A bullish pick is a real call of the chain, 30-60 DTE, delta .25-.50, with chain Greeks."""
    sel = select_contract(aapl_chain, Direction.BULLISH, as_of=AS_OF)
    p = sel.pick
    assert p is not None, sel.reason
    by_contract = {q.contract: q for q in aapl_chain.quotes}
    quote = by_contract[p.contract]
    assert p.type is OptionType.CALL and quote.type is OptionType.CALL
    assert 30 <= p.dte <= 60 and p.dte == (quote.expiry - AS_OF).days
    assert 0.25 <= p.delta <= 0.50 and p.greeks_source == "chain" and p.delta == quote.delta
    assert p.open_interest >= 100 and (p.ask - p.bid) / p.mid <= 0.10
    # 2026-09-04 (42 DTE) is nearest 45 but too thin (open interest < 100, wide spreads), so the
    # 2026-08-28 expiry (35 DTE) beats 2026-09-18 (56 DTE); its 345 call has delta .3735.
    assert (p.contract, p.dte) == ("AAPL260828C00345000", 35)
    assert sel.considered == sum(q.type is OptionType.CALL for q in aapl_chain.quotes)


def test_bearish_selection_on_real_chain_is_a_put_in_window(aapl_chain):
    """A bearish pick is a put with negative delta of magnitude .25-.50."""
    p = select_contract(aapl_chain, Direction.BEARISH, as_of=AS_OF).pick
    assert p is not None and p.type is OptionType.PUT
    assert 30 <= p.dte <= 60 and -0.50 <= p.delta <= -0.25
