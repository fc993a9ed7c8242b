"""Prompts for the bull, bear and risk agents (pure: no trio, no client).

Each prompt carries the facts the scan computed — score components, catalysts, the chosen
contract — so the agents argue about this setup, not about the ticker in general. The bear
reads the bull's thesis; the risk agent reads both and judges the contract.
"""

from __future__ import annotations

from messages.debate import AgentRole, RiskAssessment, Thesis
from messages.scan import TickerResult

__all__ = ["build_messages", "describe_setup"]

_SYSTEM = {
    AgentRole.BULL: (
        "You are the bull in an options trading debate. Make the strongest honest case FOR the "
        "trade on the recommended contract, using only the facts given. Conviction is 0..1: how "
        "strongly the facts support the bull case (not how much you want it)."
    ),
    AgentRole.BEAR: (
        "You are the bear in an options trading debate. Make the strongest honest case AGAINST the "
        "trade, answering the bull's points directly, using only the facts given. Conviction is "
        "0..1: how strongly the facts support the bear case."
    ),
    AgentRole.RISK: (
        "You are the risk manager. Weigh the bull and bear theses against the facts and give a "
        "verdict on the recommended contract: take (as proposed), adjust (right idea, change the "
        "contract, size or timing), or avoid. List the main risks. Conviction is 0..1 in your verdict."
    ),
}

_FORMAT = {
    AgentRole.BULL: 'Reply with one JSON object: {"stance", "conviction", "key_points", "summary"}.',
    AgentRole.BEAR: 'Reply with one JSON object: {"stance", "conviction", "key_points", "summary"}.',
    AgentRole.RISK: 'Reply with one JSON object: {"verdict", "conviction", "main_risks", "summary", "stance"}.',
}


def describe_setup(result: TickerResult) -> str:
    """The facts of one ticker's setup, as plain text lines."""
    lines = [
        f"Ticker: {result.ticker}" + (" (SYNTHETIC market data)" if result.synthetic else ""),
        f"As of: {result.as_of.isoformat()}; last close {result.last_close:.2f}",
        f"Technical direction: {result.direction.value}; score {result.technical_score:.1f}/100, "
        f"after catalysts {result.score:.1f}/100 (rank {result.rank})",
        "Score components (value 0..1 x weight):",
    ]
    for c in result.components:
        detail = f" - {c.detail}" if c.detail else ""
        lines.append(f"  - {c.name}: {c.value:.2f} x {c.weight:.2f}{detail}")
    if result.catalysts:
        lines.append("Catalysts:")
        for cat in result.catalysts:
            when = f" on {cat.date.isoformat()}" if cat.date else ""
            lines.append(f"  - {cat.kind}{when}: {cat.detail} (score {cat.adjustment:+.1f})")
    else:
        lines.append("Catalysts: none known")
    if result.option is not None:
        o = result.option
        iv = f", IV {o.iv:.0%}" if o.iv else ""
        lines.append(
            f"Recommended contract: {o.contract} {o.type.value.upper()} strike {o.strike:g} expiring "
            f"{o.expiry.isoformat()} ({o.dte} DTE), delta {o.delta:+.2f}, bid {o.bid:.2f} / ask {o.ask:.2f} "
            f"(mid {o.mid:.2f}), open interest {o.open_interest:,.0f}, volume {o.volume:,.0f}{iv}"
        )
    else:
        lines.append(f"Recommended contract: none ({result.no_option_reason or 'no contract qualified'})")
    return "\n".join(lines)


def _thesis_text(label: str, thesis: Thesis) -> str:
    points = "\n".join(f"  - {p}" for p in thesis.key_points)
    return (
        f"{label} thesis (stance {thesis.stance.value}, conviction {thesis.conviction:.2f}):\n"
        f"{thesis.summary}\n{points}"
    )


def build_messages(
    role: AgentRole,
    result: TickerResult,
    *,
    bull: Thesis | None = None,
    bear: Thesis | None = None,
) -> list[tuple[str, str]]:
    """(role, content) pairs for one agent call.

    Raises:
        ValueError: the bear without the bull's thesis, or risk without both (a verdict must
            never be built on a failed input).
    """
    parts = [describe_setup(result)]
    if role in (AgentRole.BEAR, AgentRole.RISK):
        if bull is None:
            raise ValueError(f"the {role.value} agent needs the bull's thesis")
        parts.append(_thesis_text("Bull", bull))
    if role is AgentRole.RISK:
        if bear is None:
            raise ValueError("the risk agent needs the bear's thesis")
        parts.append(_thesis_text("Bear", bear))
    parts.append(_FORMAT[role])
    return [("system", _SYSTEM[role]), ("user", "\n\n".join(parts))]


REPLY_TYPES: dict[AgentRole, type] = {
    AgentRole.BULL: Thesis,
    AgentRole.BEAR: Thesis,
    AgentRole.RISK: RiskAssessment,
}
