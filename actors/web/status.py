"""The system page's sections for a running :class:`~actors.system.System`, read from the actors themselves.

::

    status = system_status(system, source=settings.source, next_scan=scheduler.next_scan_text)
    create_app(..., status=status)

Each section is what the runtime reports at the moment of the request, never a default: the
supervised actors (running, inbox depth = queued messages, restarts, last error), the event
bus, the data source, and the next scheduled scan when the owner (the daemon) gives a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from actors.web.app import StatusProvider

__all__ = ["system_status"]


def system_status(system: Any, *, source: str, next_scan: Callable[[], str | None] | None = None) -> StatusProvider:
    """A status provider over ``system`` (an open :class:`~actors.system.System`)."""

    async def status() -> Mapping[str, Any]:
        supervisor = system.supervisor.statistics()
        bus = system.bus.statistics()
        sections: dict[str, Any] = {
            "actors": [
                {"actor": c.name, "running": "yes" if c.running else "no", "queued_messages": c.inbox_depth,
                 "restarts": c.restarts, "last_error": c.last_error or ""}
                for c in supervisor.children
            ],
            "event_bus": {"published": bus.published, "subscribers": bus.subscribers,
                          "dropped_for_slow_subscribers": bus.dropped},
            "data_source": {"source": source, "debates": system.debate_disabled_reason or "on"},
        }
        if next_scan is not None:
            sections["next_scheduled_scan"] = next_scan() or "none scheduled"
        return sections

    return status
