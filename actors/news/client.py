"""The coordinator's side of the news scorer actor (imports nothing of the LLM side)."""

from __future__ import annotations

import attrs

from actors.runtime import Address, request
from messages.articles import DrainNews, NewsDrained

__all__ = ["NewsClient"]


@attrs.frozen
class NewsClient:
    """``await client.drain(first_tickers, timeout=...)``: have the scorer drain the queue."""

    address: Address

    async def drain(
        self, first_tickers: tuple[str, ...] = (), *, timeout: float = 600.0, wait_for_breaker: bool = True
    ) -> NewsDrained:
        """Ask the scorer to drain the queue; wait at most ``timeout`` (+ a margin to answer).

        Raises:
            RequestTimeout, ActorDied: the scorer did not answer.
        """
        return await request(
            self.address, DrainNews(first_tickers=first_tickers, timeout=timeout, wait_for_breaker=wait_for_breaker),
            timeout=timeout + 30.0,
        )
