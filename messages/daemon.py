"""The daemon's conversation with its scheduler actor."""

from __future__ import annotations

import attrs
from attrs import frozen

__all__ = ["Reschedule", "ShutDown"]


@frozen(kw_only=True)
class Reschedule:
    """New schedule settings (SIGHUP reloaded the configuration): the next scan time is recomputed.

    The values are the settings of the same names, already validated by the settings loader.
    """

    scan_at: tuple[str, ...] = attrs.field(converter=tuple)
    scan_timezone: str
    scan_every: float = attrs.field(validator=attrs.validators.ge(0))
    resume_window: float = attrs.field(validator=attrs.validators.ge(0))


@frozen(kw_only=True)
class ShutDown:
    """Request: stop scheduling; let scans and resumes in flight run for ``grace`` seconds, then
    cancel them (their runs are marked INTERRUPTED, resumable). Answered once none is left."""

    grace: float = attrs.field(validator=attrs.validators.ge(0))
