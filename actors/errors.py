"""Every error option-alpha raises on purpose, in one hierarchy.

::

    OptionAlphaError
     ├── ConfigError (ValueError)            bad setting: names field, source, what is allowed; exit 2
     ├── UsageError (ValueError)             bad command line; exit 2
     ├── ProviderError                       one piece of one ticker's data; recorded, never fatal
     │    ├── MalformedData (ValueError)     the provider answered, the document is wrong
     │    ├── DataNotAvailable (LookupError) this provider has no such piece for this ticker
     │    ├── UnknownTicker (LookupError)    the provider does not know the symbol
     │    └── ProviderUnavailable (OSError)  transport failure / timeout / HTTP error
     ├── StoreError (OSError)                SQLite failed; nothing acknowledged is lost
     │    ├── DiskFull
     │    └── StoreBusy                      another connection held the database locked too long
     └── ScanFailed                          no ticker produced data; exit 1

LLM failures are not exceptions but typed outcomes (``actors.llm.outcome``): transport failures
and timeouts count against the circuit breaker, invalid output does not.
Runtime errors (request timeouts, dead actors, supervisor escalation) live in
``actors.runtime`` because the kernel imports nothing from the rest.
"""

from __future__ import annotations


class OptionAlphaError(Exception):
    """Base of the errors option-alpha raises on purpose."""

    exit_code: int = 1


class ConfigError(OptionAlphaError, ValueError):
    """A setting has a bad value; the message names the field, where it came from, and what is allowed."""

    exit_code = 2


class UsageError(OptionAlphaError, ValueError):
    """The command line is wrong."""

    exit_code = 2


class ProviderError(OptionAlphaError):
    """One piece of one ticker's market data could not be had."""

    kind = "error"

    def __init__(self, ticker: str, piece: str, message: str) -> None:
        self.ticker = ticker
        self.piece = piece
        self.message = message
        super().__init__(f"{ticker} {piece}: {message}")


class MalformedData(ProviderError, ValueError):
    """The provider answered but the document is wrong (truncated, NaN prices, bars out of order)."""

    kind = "malformed"


class DataNotAvailable(ProviderError, LookupError):
    """The provider has no such piece for this ticker (history but no chain is normal)."""

    kind = "missing"


class UnknownTicker(ProviderError, LookupError):
    """The provider does not know the symbol."""

    kind = "unknown_ticker"


class ProviderUnavailable(ProviderError, OSError):
    """Transport failure, timeout, or an HTTP error status from the provider."""

    kind = "unavailable"


class StoreError(OptionAlphaError, OSError):
    """SQLite failed; what was acknowledged before stays committed."""


class DiskFull(StoreError):
    """The database or its disk is full."""


class StoreBusy(StoreError):
    """Another connection held the database locked past the busy timeout; nothing was written."""


class ScanFailed(OptionAlphaError):
    """No ticker produced data: the run is FAILED."""

    exit_code = 1
