"""Pure parsers: one vendor format each, bytes/str in → market messages out, no I/O, no trio.

Each validates what it reads and raises :class:`~actors.errors.MalformedData` whose message
names the field path and why (``data.options[3].bid: expected a number, got 'x'``). A document
that is well formed but says there is nothing raises DataNotAvailable (or UnknownTicker when
the vendor says the symbol does not exist). The snapshot provider replays recorded responses
through these; live HTTP providers will reuse them unchanged.

Hostile values (1e308, 5,000-digit integers, bars dated 9999-12-30) are refused at this boundary
with the bounds of :mod:`actors.core.plausible`; which bad values drop an item and which fail the
piece is tabled in :mod:`actors.providers.parsers._common`. Every parser takes a keyword
``today`` (default: the UTC date) that bounds observation dates; tests inject it.
"""

from actors.providers.parsers.cboe_chart import parse_cboe_chart
from actors.providers.parsers.cboe_options import parse_cboe_chain
from actors.providers.parsers.nasdaq_earnings import EarningsDay, parse_nasdaq_earnings
from actors.providers.parsers.rss_news import parse_rss_news
from actors.providers.parsers.stooq import parse_stooq_csv
from actors.providers.parsers.yahoo_chart import parse_yahoo_chart
from actors.providers.parsers.yahoo_news import parse_yahoo_news
from actors.providers.parsers.yahoo_options import parse_yahoo_options

__all__ = [
    "EarningsDay",
    "parse_cboe_chain",
    "parse_cboe_chart",
    "parse_nasdaq_earnings",
    "parse_rss_news",
    "parse_stooq_csv",
    "parse_yahoo_chart",
    "parse_yahoo_news",
    "parse_yahoo_options",
]
