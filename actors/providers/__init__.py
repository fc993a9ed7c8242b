"""Market-data providers behind one interface: recorded snapshot, deterministic sim, parsers.

``make_provider("snapshot")`` replays real recorded responses; ``make_provider("sim", size=...)``
generates a synthetic market. Both implement :class:`actors.providers.base.Provider`.
"""

from actors.providers.base import Provider, make_provider, provider_names

__all__ = ["Provider", "make_provider", "provider_names"]
