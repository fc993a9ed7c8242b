"""The live provider's configuration taken from :class:`~actors.config.Settings`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from actors.providers.live.http import HostPolicy
from actors.providers.live.provider import LiveConfig

if TYPE_CHECKING:
    from actors.config import Settings

__all__ = ["live_config"]


def live_config(settings: Settings) -> LiveConfig:
    """Base URLs, per-host policies (rate from the settings; timeout and retry delays are the
    fetch settings; the breaker is shared by the three hosts' settings), cache and recording."""

    def policy(rate: float) -> HostPolicy:
        return HostPolicy(
            rate=rate,
            burst=max(1, math.ceil(rate)),
            timeout=settings.fetch_timeout,
            retry_delays=settings.fetch_retry_delays,
            breaker_failures=settings.host_breaker_failures,
            breaker_cooldown=settings.host_breaker_cooldown,
        )

    return LiveConfig(
        cboe_base_url=settings.cboe_base_url,
        nasdaq_base_url=settings.nasdaq_base_url,
        news_feed_url=settings.news_feed_url,
        cboe=policy(settings.cboe_rate),
        nasdaq=policy(settings.nasdaq_rate),
        news=policy(settings.news_rate),
        edgar_user_agent=settings.edgar_user_agent,
        edgar_feed_url=settings.edgar_feed_url,
        edgar=policy(settings.edgar_rate),
        cache_dir=settings.cache_dir,
        cache_mode=settings.cache_mode,
        news_ttl=settings.news_cache_ttl,
        record_dir=settings.record_dir,
    )
