"""Report dicts shaped like ``--json`` for the rendering tests, with awkward numbers drawn from a seed."""

from __future__ import annotations

import random
from typing import Any

RUN_ID = "20260724T193012-1a2b3c"


def thesis(role: str, *, conviction: float, ok: bool = True, model: str = "llama3.1:8b") -> dict[str, Any]:
    body: dict[str, Any] | None
    if role == "risk":
        body = {"verdict": "adjust", "conviction": conviction, "main_risks": ["gap risk into the print"],
                "summary": "Right idea, smaller size.", "stance": "neutral"}
    else:
        body = {"stance": "bullish" if role == "bull" else "bearish", "conviction": conviction,
                "key_points": [f"{role} point one", f"{role} point two"], "summary": f"The {role} summary."}
    return {"role": role, "model": model, "status": "ok" if ok else "failed", "failure": None if ok else "deadline",
            "thesis": body if ok else None, "attempts": 1 if ok else 3, "latency": 1.234 if ok else 120.5,
            "detail": "" if ok else "no reply within 120 s", "usage": {}, "saved": True}


def row(rng: random.Random, rank: int, *, debated: bool, with_option: bool = True) -> dict[str, Any]:
    ticker = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(1, 5)))
    strike = rng.choice([5.5, 17.5, 72.5, 520.0, 1234.5, 3.0])
    conviction = rng.choice([0.97, 0.03, 0.49, 0.5, 0.12])
    option = {
        "contract": f"{ticker}260918C{int(strike * 1000):08d}", "type": rng.choice(["call", "put"]),
        "strike": strike, "expiry": "2026-09-18", "dte": rng.randint(30, 60),
        "delta": rng.choice([0.3585, -0.4123, 0.25, -0.33]), "bid": 17.87, "ask": 19.3, "mid": 18.585,
        "open_interest": float(rng.choice([719, 1_234_567, 98_765, 100])), "volume": 5.0, "iv": 0.448,
        "greeks_source": "chain", "gamma": 0.0044, "theta": -0.2962, "vega": 0.6988,
    }
    debate = None
    if debated:
        debate = {"status": "completed", "verdict": "adjust", "conviction": conviction, "reason": None,
                  "theses": [thesis("bull", conviction=0.81), thesis("bear", conviction=0.43),
                             thesis("risk", conviction=conviction)], "saved": True}
    return {
        "ticker": ticker, "rank": rank, "score": round(rng.uniform(0, 100), 2),
        "technical_score": round(rng.uniform(0, 100), 2), "direction": rng.choice(["bullish", "bearish", "neutral"]),
        "last_close": 477.5614, "as_of": "2026-07-24", "synthetic": False,
        "components": [{"name": "trend", "value": 0.8123, "weight": 0.25, "detail": "close +20.3% vs SMA20"}],
        "catalysts": [{"kind": rng.choice(["earnings_before_expiry", "earnings_after_window", "earnings_unknown"]),
                       "detail": "earnings 2026-09-10 in 48 days", "adjustment": -5.0, "date": None}],
        "option": option if with_option else None,
        "no_option_reason": None if with_option else "none with open interest >= 100",
        "debate": debate, "saved": True,
    }


def report(seed: int, *, rows: int = 12, debated: int = 4) -> dict[str, Any]:
    rng = random.Random(seed)
    results = [row(rng, i + 1, debated=i < debated, with_option=rng.random() > 0.2) for i in range(rows)]
    return {
        "schema_version": 1, "run_id": RUN_ID, "status": "COMPLETED", "reason": None, "db": "/tmp/x.db",
        "seconds": 3.2, "tickers_requested": 200,
        "phases": [{"name": "data_fetch", "status": "ok", "seconds": 0.21, "errors": 0, "detail": ""}],
        "results": results, "errors": [],
        "debate": {"requested": debated, "completed": debated, "skipped_reason": None}, "unsaved": [],
    }
