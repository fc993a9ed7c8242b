"""One ticker of a run in full, as plain text: ``bin/scan show RUN TICKER`` and the end of ``--demo``.

Built from the per-ticker dict of ``--json`` (:func:`actors.report.result_to_dict`), so the
dashboard can show the same content. Sections: the score and its components, catalysts, the
contract (bid/ask/mid, IV, Greeks, break-even, DTE, as-of), the data's age and flags when the
source reports them, scored news when there is any, and the debate: the bull's case, the
bear's answer and the risk manager's verdict with its conviction, each with model, attempts
and latency. An agent that failed, was cut off or never ran says so and why; nothing is made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actors.render.table import wrap_text
from actors.report import CATALYST_FLAGS

__all__ = ["panel_lines", "break_even"]

Row = Mapping[str, Any]
#: The bull argues for the trade on the contract (a put's bull is bearish on the stock), the bear against it.
_ROLE_TITLE = {"bull": "Bull's case (for the trade)", "bear": "Bear's answer (against it)",
               "risk": "Risk manager's verdict"}


def break_even(option: Mapping[str, Any]) -> float:
    """The underlying's price at expiry where the option bought at mid neither gains nor loses."""
    if option["type"] == "put":
        return option["strike"] - option["mid"]
    return option["strike"] + option["mid"]


class _Lines:
    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[str] = []

    def say(self, text: str, indent: int = 0, hang: int = 0) -> None:
        """``text`` wrapped at ``width``, the first line indented ``indent``, the rest ``indent + hang``."""
        first = True
        for piece in wrap_text(text, self.width - indent - hang):
            self.lines.append(" " * (indent if first else indent + hang) + piece)
            first = False

    def blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")


def panel_lines(row: Row, *, run_id: str, width: int, total: int | None = None) -> list[str]:
    """The panel of one ranked ticker, as lines no longer than ``width`` (a word longer than that stays whole)."""
    out = _Lines(width)
    synthetic = "  [SYNTHETIC market data]" if row.get("synthetic") else ""
    of = f" of {total}" if total else ""
    out.say(f"{row['ticker']}  rank {row['rank']}{of}  run {run_id}{synthetic}")
    out.say("═" * min(width, 80))
    _score(out, row)
    _catalysts(out, row)
    _contract(out, row)
    _data(out, row)
    _news(out, row.get("news"))
    _debate(out, row.get("debate"))
    if row.get("saved") is False:
        out.blank()
        out.say("NOT SAVED: this ticker exists only in this output.")
    return out.lines


def _score(out: _Lines, row: Row) -> None:
    out.say(f"score {row['score']:.1f} / 100 (technical {row['technical_score']:.1f}, catalysts "
            f"{row['score'] - row['technical_score']:+.1f})  ·  {row['direction']}  ·  last close "
            f"{row['last_close']:.2f}  ·  as of {row['as_of']}")
    components = row.get("components") or []
    if components:
        out.say("components (value 0-1 x weight):", indent=2)
        for c in components:
            out.say(f"{c['name']} {c['value']:.2f} x {c['weight']:.2f}" + (f": {c['detail']}" if c.get("detail") else ""),
                    indent=4, hang=2)


def _catalysts(out: _Lines, row: Row) -> None:
    catalysts = row.get("catalysts") or []
    out.blank()
    if not catalysts:
        out.say("catalysts: none known")
        return
    out.say("catalysts:")
    for c in catalysts:
        flag = CATALYST_FLAGS.get(c["kind"], c["kind"])
        out.say(f"{flag} ({c['adjustment']:+.1f} points): {c['detail']}", indent=2, hang=2)


def _contract(out: _Lines, row: Row) -> None:
    option = row.get("option")
    out.blank()
    if not option:
        out.say(f"contract: none ({row.get('no_option_reason') or 'no contract qualified'})")
        return
    out.say(f"contract: {option['type'].upper()} {option['strike']:g} expiring {option['expiry']} "
            f"({option['dte']} DTE)  {option['contract']}")
    iv = f"{option['iv']:.1%}" if isinstance(option.get("iv"), (int, float)) else "n/a"
    out.say(f"bid {option['bid']:.2f}  ask {option['ask']:.2f}  mid {option['mid']:.2f}  IV {iv}  "
            f"open interest {option['open_interest']:,.0f}  volume {option['volume']:,.0f}", indent=2)
    greeks = [f"delta {option['delta']:+.3f}"]
    for name in ("gamma", "theta", "vega"):
        value = option.get(name)
        if isinstance(value, (int, float)):
            greeks.append(f"{name} {value:+.4f}")
    source = "from the chain" if option.get("greeks_source") == "chain" else "Black-Scholes"
    out.say("  ".join(greeks) + f"  (Greeks {source})", indent=2)
    level = break_even(option)
    move = (level / row["last_close"] - 1.0) if row.get("last_close") else None
    moved = f" ({move:+.1%} from the last close)" if move is not None else ""
    out.say(f"break-even at expiry {level:.2f}{moved}, buying at mid", indent=2)


def _data(out: _Lines, row: Row) -> None:
    """The data's age and flags, when the source reports them (live sources do; sim and snapshot may not)."""
    age = row.get("quote_age_s")
    flags = row.get("data_flags") or []
    if not isinstance(age, (int, float)) and not flags:
        return
    parts = [f"data as of {row['as_of']}"]
    if isinstance(age, (int, float)):
        parts.append(f"quote {age:,.0f} s old")
    if flags:
        parts.append("flags: " + ", ".join(str(f) for f in flags))
    out.say("; ".join(parts))


def _news(out: _Lines, news: Sequence[Mapping[str, Any]] | None) -> None:
    if not news:
        return
    out.blank()
    out.say("news that moved the score:")
    for item in news:
        points = item.get("points")
        shown = f"{points:+.2f} points" if isinstance(points, (int, float)) else "points n/a"
        head = f"{item.get('published_at') or ''} {item.get('source') or ''}".strip()
        out.say(f"{shown}, {item.get('sentiment')}, impact {item.get('impact')}: {item.get('title')}"
                + (f" ({head})" if head else ""), indent=2, hang=2)
        if item.get("reasoning"):
            out.say(str(item["reasoning"]), indent=4)


def _debate(out: _Lines, debate: Mapping[str, Any] | None) -> None:
    out.blank()
    if not debate:
        out.say("debate: not debated (only the top tickers with a contract are debated; see top_n_ai_debate)")
        return
    status = debate["status"]
    if status == "completed":
        out.say(f"debate: completed, verdict {debate.get('verdict')} with conviction {debate.get('conviction'):.2f}")
    else:
        out.say(f"debate: {status.replace('_', ' ')}" + (f" ({debate['reason']})" if debate.get("reason") else ""))
    if debate.get("saved") is False:
        out.say("(this debate is NOT SAVED)", indent=2)
    theses = {t["role"]: t for t in debate.get("theses") or []}
    if not theses:
        out.say("no agent ran" if status != "completed" else "(the agents' rows were not saved)", indent=2)
        return
    for role in ("bull", "bear", "risk"):
        out.blank()
        thesis = theses.get(role)
        if thesis is None:
            why = f"never ran (the debate {status.replace('_', ' ')} before it)" if status != "completed" else "no row saved"
            out.say(f"{_ROLE_TITLE[role]}: {why}")
            continue
        _agent(out, role, thesis)


def _agent(out: _Lines, role: str, thesis: Mapping[str, Any]) -> None:
    attempts = thesis.get("attempts")
    latency = thesis.get("latency")
    how = f"model {thesis.get('model')} · {attempts} attempt{'' if attempts == 1 else 's'}"
    if isinstance(latency, (int, float)):
        how += f" · {latency:.2f} s"
    if thesis.get("saved") is False:
        how += " · NOT SAVED"
    body = thesis.get("thesis")
    if thesis.get("status") != "ok" or not body:
        detail = f": {thesis['detail']}" if thesis.get("detail") else ""
        out.say(f"{_ROLE_TITLE[role]}: FAILED ({thesis.get('failure')}{detail})", hang=2)
        out.say(how, indent=2)
        return
    said = body.get("verdict") if role == "risk" else body.get("stance")
    out.say(f"{_ROLE_TITLE[role]}: {said}, conviction {body['conviction']:.2f}", hang=2)
    out.say(how, indent=2)
    out.say(str(body.get("summary", "")), indent=2)
    for point in body.get("main_risks" if role == "risk" else "key_points") or ():
        out.say(f"- {point}", indent=2, hang=2)
