"""Options: pick one contract per scored ticker (DTE window, delta target, liquidity). Pure functions, no I/O."""

from actors.core.options.select import NEUTRAL_REASON, Selection, select_contract

__all__ = ["NEUTRAL_REASON", "Selection", "select_contract"]
