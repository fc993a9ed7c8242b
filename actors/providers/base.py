"""The one provider interface, and the registry that builds providers by name.

A provider answers four questions about one ticker: its daily price history, its option chain,
its earnings dates in a window, and its recent headlines. Every answer carries its as-of. A
provider raises only :mod:`actors.errors` provider errors, each naming the ticker and the piece
("history", "chain", "earnings", "news")::

    MalformedData        the source answered, the document is wrong
    DataNotAvailable     the source has no such piece for this ticker (no chain is normal)
    UnknownTicker        the source does not know the symbol
    ProviderUnavailable  transport failure, timeout, HTTP error

``earnings()`` distinguishes *unknown* (None: the provider cannot know this ticker's earnings
for that window) from *known, none* (an empty tuple).
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any, Protocol, runtime_checkable

from actors.errors import ConfigError
from messages.market import EarningsEvent, Headline, OptionChain, PriceHistory

__all__ = ["Provider", "make_provider", "provider_names"]


@runtime_checkable
class Provider(Protocol):
    """Market data for one ticker at a time; safe to call concurrently from many trio tasks."""

    #: Short source name recorded on every piece ("snapshot", "sim", "cboe", ...).
    name: str
    #: True when the data is generated, not observed: results must be labelled as such.
    synthetic: bool

    def default_universe(self) -> tuple[str, ...]:
        """The tickers this provider scans when the user names none."""
        ...

    async def history(self, ticker: str) -> PriceHistory:
        """Daily bars, oldest first; ``as_of`` is the last bar's date."""
        ...

    async def chain(self, ticker: str) -> OptionChain:
        """The option chain; ``as_of`` is the quote time."""
        ...

    async def earnings(self, ticker: str, start: dt.date, end: dt.date) -> tuple[EarningsEvent, ...] | None:
        """Earnings events with ``start <= date <= end``; None when unknown for that window."""
        ...

    async def news(self, ticker: str) -> tuple[Headline, ...]:
        """Recent headlines, possibly none."""
        ...

    async def aclose(self) -> None:
        """Release clients and caches; the provider is not used afterwards."""
        ...


#: name → "module:attribute" of a factory taking keyword-only options. Imported lazily.
_REGISTRY: dict[str, str] = {
    "live": "actors.providers.live.provider:LiveProvider",
    "snapshot": "actors.providers.snapshot:SnapshotProvider",
    "sim": "actors.providers.sim:SimProvider",
}


def provider_names() -> tuple[str, ...]:
    """The names :func:`make_provider` accepts."""
    return tuple(sorted(_REGISTRY))


def make_provider(name: str, **options: Any) -> Provider:
    """Build the provider registered as ``name`` with its keyword-only ``options``.

    Raises:
        ConfigError: unknown name, or options the provider rejects (named in the message).
    """
    target = _REGISTRY.get(name)
    if target is None:
        raise ConfigError(f"provider: unknown provider {name!r}; expected one of {', '.join(provider_names())}")
    module_name, _, attribute = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    try:
        return factory(**options)
    except TypeError as exc:
        raise ConfigError(f"provider {name!r}: bad options {sorted(options)}: {exc}") from None
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"provider {name!r}: {exc}") from None
