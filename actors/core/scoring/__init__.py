"""Scoring: technical score of a price history, then catalyst adjustment. Pure functions, no I/O."""

from actors.core.scoring.catalysts import apply_catalysts
from actors.core.scoring.errors import InsufficientHistory, UnusableHistory
from actors.core.scoring.technical import MIN_BARS, score_history
from actors.core.scoring.weights import DEFAULT_WEIGHTS, Weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "MIN_BARS",
    "InsufficientHistory",
    "UnusableHistory",
    "Weights",
    "apply_catalysts",
    "score_history",
]
