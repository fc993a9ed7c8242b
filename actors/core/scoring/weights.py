"""The weights of the technical score's components: the one place they are set.

The technical score is ``100 * sum(weight_i * value_i)`` over five components, each valued
0..1 as the strength of the setup *in its direction*:

========================  =======  ===========================================================
component                 default  why this share
========================  =======  ===========================================================
``trend``                 0.25     a move with the trend (price vs SMA20/50, slope, efficiency)
``momentum``              0.25     the move is happening now (20-day change, RSI)
``squeeze_breakout``      0.25     a fresh break of a tight range: where directional options pay
``relative_volume``       0.15     volume confirms the move; noisy alone, so a smaller share
``atr_regime``            0.10     realized volatility expanding: the move has started
========================  =======  ===========================================================
"""

from __future__ import annotations

import math

import attrs
from attrs import frozen

__all__ = ["DEFAULT_WEIGHTS", "Weights"]


def _check_weight(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"weight {attribute.name} must be a finite number (got {value!r})")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"weight {attribute.name} must be between 0 and 1 (got {value})")


@frozen(kw_only=True)
class Weights:
    """Shares of the technical score's components; each 0..1, summing to 1 (within 1e-9).

    Raises:
        ValueError: naming the weight, when one is out of range or the sum is not 1.
    """

    trend: float = attrs.field(default=0.25, validator=_check_weight)
    momentum: float = attrs.field(default=0.25, validator=_check_weight)
    squeeze_breakout: float = attrs.field(default=0.25, validator=_check_weight)
    relative_volume: float = attrs.field(default=0.15, validator=_check_weight)
    atr_regime: float = attrs.field(default=0.10, validator=_check_weight)

    def __attrs_post_init__(self) -> None:
        total = self.total
        if abs(total - 1.0) > 1e-9:
            parts = ", ".join(f"{name}={value}" for name, value in self.items())
            raise ValueError(f"weights must sum to 1 (got {total:.6g}: {parts})")

    @property
    def total(self) -> float:
        return math.fsum(value for _, value in self.items())

    def items(self) -> tuple[tuple[str, float], ...]:
        """(component name, weight) pairs in the order components are reported."""
        return tuple((a.name, getattr(self, a.name)) for a in attrs.fields(type(self)))


DEFAULT_WEIGHTS = Weights()
