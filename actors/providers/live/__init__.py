"""Live market data from free, key-less public sources: Cboe delayed quotes, the Nasdaq earnings
calendar, per-ticker RSS headlines; polite (per-host rate limit, retries, breaker), cached on
disk, recordable in the snapshot layout.

``make_provider("live", config=LiveConfig(...))`` builds :class:`LiveProvider`.
"""

from actors.providers.live.provider import LiveConfig, LiveProvider

__all__ = ["LiveConfig", "LiveProvider"]
