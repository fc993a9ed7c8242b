"""Debate replies that speak of the ticker and its numbers: what the fake servers answer a bull,
bear or risk prompt with.

The debate prompts (:mod:`actors.core.prompts`) carry the setup's facts as text: the ticker,
its score, rank and direction, the score components, the catalysts and the recommended
contract with its quotes. :func:`parse_setup` reads them back (tolerating anything missing),
and :func:`debate_document` writes a thesis or a risk verdict from them, so the demo's debate
reads like an argument about *this* setup: a bull citing the strongest component and the
break-even, a bear citing the weakest component, the spread and the earnings flag, and a risk
manager weighing the two convictions. Every reply is still synthetic, and the demo says so.

Pure: no I/O; the same prompt and ``rng`` give the same document.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Setup", "debate_document", "debate_role", "parse_setup"]


@attrs.frozen
class Component:
    name: str
    value: float
    weight: float
    detail: str


@attrs.frozen
class Contract:
    type: str  # "CALL" | "PUT"
    strike: float
    expiry: str
    dte: int
    delta: float
    bid: float
    ask: float
    mid: float
    open_interest: str
    iv: str | None

    @property
    def break_even(self) -> float:
        return self.strike + self.mid if self.type == "CALL" else self.strike - self.mid

    @property
    def spread_pct(self) -> float:
        return (self.ask - self.bid) / self.mid if self.mid > 0 else 0.0


@attrs.frozen
class Setup:
    """The facts a debate prompt states (None or empty where the prompt says nothing)."""

    ticker: str
    direction: str = "neutral"
    score: float | None = None
    technical: float | None = None
    rank: int | None = None
    last_close: float | None = None
    components: tuple[Component, ...] = ()
    catalysts: tuple[str, ...] = ()
    contract: Contract | None = None
    bull_conviction: float | None = None
    bear_conviction: float | None = None


_NUMBER = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"


def _float(text: str) -> float:
    return float(text.replace(",", ""))


def parse_setup(prompt: str) -> Setup | None:
    """The setup a debate prompt describes, or None when it names no ticker (not a debate prompt)."""
    ticker = re.search(r"^Ticker: ([A-Z0-9][A-Z0-9.\-]{0,9})", prompt, re.MULTILINE)
    if ticker is None:
        return None
    values: dict[str, Any] = {"ticker": ticker.group(1)}
    if found := re.search(r"Technical direction: (\w+); score (" + _NUMBER + r")/100, after catalysts ("
                          + _NUMBER + r")/100 \(rank (\d+)\)", prompt):
        values.update(direction=found.group(1), technical=_float(found.group(2)), score=_float(found.group(3)),
                      rank=int(found.group(4)))
    if found := re.search(r"last close (" + _NUMBER + ")", prompt):
        values["last_close"] = _float(found.group(1))
    values["components"] = tuple(
        Component(m.group(1), _float(m.group(2)), _float(m.group(3)), m.group(4) or "")
        for m in re.finditer(r"^  - (\w+): (" + _NUMBER + ") x (" + _NUMBER + r")(?: - (.*))?$", prompt, re.MULTILINE)
    )
    values["catalysts"] = tuple(m.group(1) for m in re.finditer(r"^  - (earnings_\w+|news)\b", prompt, re.MULTILINE))
    if found := re.search(
        r"Recommended contract: \S+ (CALL|PUT) strike (" + _NUMBER + r") expiring (\S+) \((\d+) DTE\), delta ("
        + _NUMBER + r"), bid (" + _NUMBER + r") / ask (" + _NUMBER + r") \(mid (" + _NUMBER + r")\), open interest ("
        + _NUMBER + r")(?:.*?IV (\d+%))?", prompt):
        g = found.groups()
        values["contract"] = Contract(g[0], _float(g[1]), g[2], int(g[3]), _float(g[4]), _float(g[5]), _float(g[6]),
                                      _float(g[7]), g[8], g[9])
    if found := re.search(r"Bull thesis \(stance \w+, conviction (" + _NUMBER + r")\)", prompt):
        values["bull_conviction"] = _float(found.group(1))
    if found := re.search(r"Bear thesis \(stance \w+, conviction (" + _NUMBER + r")\)", prompt):
        values["bear_conviction"] = _float(found.group(1))
    return Setup(**values)


def debate_role(schema: Mapping[str, Any], prompt: str) -> str | None:
    """``"bull"``, ``"bear"`` or ``"risk"`` when ``schema`` is a debate reply's schema, else None."""
    properties = set((schema.get("properties") or {}))
    if {"verdict", "main_risks"} <= properties:
        return "risk"
    if {"stance", "conviction", "key_points", "summary"} <= properties:
        return "bear" if re.search(r"You are the bear\b", prompt) else "bull"
    return None


def _clamp(value: float) -> float:
    return round(min(0.95, max(0.05, value)), 2)


def _contract_text(c: Contract) -> str:
    return f"the {c.type} {c.strike:g} expiring {c.expiry} ({c.dte} DTE) at {c.mid:.2f} mid"


def _bull(s: Setup, rng: random.Random) -> dict[str, Any]:
    score = s.score if s.score is not None else 50.0
    conviction = _clamp(0.25 + 0.6 * score / 100 + rng.uniform(-0.05, 0.05))
    points = [f"{s.ticker} scores {score:.1f}/100 as a {s.direction} setup" + (f", rank {s.rank}" if s.rank else "")]
    if s.components:
        best = max(s.components, key=lambda c: c.value * c.weight)
        points.append(f"strongest part: {best.name} at {best.value:.2f}" + (f" ({best.detail})" if best.detail else ""))
    c = s.contract
    if c is not None:
        move = f", {c.break_even / s.last_close - 1:+.1%} from {s.last_close:.2f}" if s.last_close else ""
        points.append(f"{_contract_text(c)} breaks even at {c.break_even:.2f}{move}; delta {c.delta:+.2f}")
    summary = (f"Synthetic bull case for {s.ticker}: the {s.direction} setup ({score:.1f}/100) supports "
               + (_contract_text(c) if c else "the trade, though no contract qualified") + ".")
    return {"stance": s.direction if s.direction in ("bullish", "bearish") else "neutral", "conviction": conviction,
            "key_points": points, "summary": summary}


def _bear(s: Setup, rng: random.Random) -> dict[str, Any]:
    bull = s.bull_conviction if s.bull_conviction is not None else 0.5
    c = s.contract
    earnings_inside = any(k.startswith("earnings_before") for k in s.catalysts)
    # The bear is as sure as the setup is weak: its weakest component, earnings inside the option's
    # life and a wide spread each add to its conviction.
    worst = min(s.components, key=lambda k: k.value) if s.components else None
    weakness = 0.35 * (1.0 - worst.value) if worst else 0.2
    conviction = _clamp(0.15 + weakness + (0.2 if earnings_inside else 0.0)
                        + (min(0.2, 2 * c.spread_pct) if c else 0.1) + rng.uniform(-0.1, 0.1))
    points = []
    if worst is not None:
        points.append(f"the weakest part, {worst.name}, is only {worst.value:.2f}"
                      + (f" ({worst.detail})" if worst.detail else ""))
    if c is not None:
        points.append(f"bid {c.bid:.2f} / ask {c.ask:.2f} is a {c.spread_pct:.1%} spread on the {c.type} {c.strike:g}")
        if c.iv:
            points.append(f"implied volatility {c.iv} makes the premium of {c.mid:.2f} expensive to hold for {c.dte} days")
    if earnings_inside:
        points.append(f"earnings land before the {c.expiry if c else 'option'} expiry: a gap either way and IV crush")
    elif "earnings_unknown" in s.catalysts:
        points.append("the earnings date is unknown: the option may be holding an event")
    if not points:
        points.append(f"nothing in the facts for {s.ticker} confirms the move beyond the score")
    opposite = {"bullish": "bearish", "bearish": "bullish"}.get(s.direction, "neutral")
    summary = f"Synthetic bear answer on {s.ticker}: the bull's {bull:.2f} conviction overlooks that " + points[0] + "."
    return {"stance": opposite, "conviction": conviction, "key_points": points, "summary": summary}


def _risk(s: Setup, rng: random.Random) -> dict[str, Any]:
    bull = s.bull_conviction if s.bull_conviction is not None else 0.5
    bear = s.bear_conviction if s.bear_conviction is not None else 0.5
    edge = bull - bear
    verdict = "take" if edge > 0.15 else "avoid" if edge < -0.1 else "adjust"
    conviction = _clamp(0.5 + abs(edge) / 2 + rng.uniform(-0.05, 0.05))
    c = s.contract
    risks = []
    if c is not None:
        move = "rise above" if c.type == "CALL" else "fall below"
        risks.append(f"{s.ticker} must {move} {c.break_even:.2f} by {c.expiry} for the {c.type} {c.strike:g} to pay")
        risks.append(f"spread {c.spread_pct:.1%} of mid; open interest {c.open_interest}")
    else:
        risks.append(f"no contract qualified for {s.ticker}: there is nothing to size")
    if any(k.startswith("earnings_before") for k in s.catalysts):
        risks.append("earnings before expiry")
    summary = (f"Synthetic risk verdict on {s.ticker}: {verdict} (bull {bull:.2f} vs bear {bear:.2f})"
               + (f" on {_contract_text(c)}." if c else "."))
    if verdict == "adjust" and c is not None:
        summary += f" Consider half size, or a later expiry than {c.expiry}."
    stance = s.direction if verdict == "take" and s.direction in ("bullish", "bearish") else "neutral"
    return {"verdict": verdict, "conviction": conviction, "main_risks": risks, "summary": summary, "stance": stance}


def debate_document(role: str, setup: Setup, rng: random.Random) -> dict[str, Any]:
    """The reply document of ``role`` (bull, bear, risk) about ``setup``."""
    return {"bull": _bull, "bear": _bear, "risk": _risk}[role](setup, rng)
