"""SimProvider.history_columns: the numbers of history(), as columns; news still follows the move."""

import pytest

from actors.errors import UnknownTicker

from actors.providers.sim import SimProvider


async def test_history_columns_hold_the_numbers_of_history():
    provider = SimProvider(size=50, seed=9)
    for ticker in provider.default_universe():
        columns = await provider.history_columns(ticker)
        news_after_columns = await provider.news(ticker)
        assert columns.to_history() == await provider.history(ticker)
        assert news_after_columns == await provider.news(ticker)


async def test_history_columns_of_an_unknown_ticker_raise_like_history():
    provider = SimProvider(size=5)
    with pytest.raises(UnknownTicker) as from_columns:
        await provider.history_columns("SIM0009")
    with pytest.raises(UnknownTicker) as from_history:
        await provider.history("SIM0009")
    assert str(from_columns.value) == str(from_history.value)
