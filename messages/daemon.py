"""The daemon's conversation with its scheduler actor."""

from __future__ import annotations

import attrs
from attrs import frozen

__all__ = ["ButtonAnswer", "Reschedule", "ResumeNow", "ScanNow", "ShutDown"]


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


@frozen(kw_only=True)
class ScanNow:
    """Request (the dashboard's "scan now"): start a scan at once unless one runs. Answered :class:`ButtonAnswer`."""


@frozen(kw_only=True)
class ResumeNow:
    """Request (the dashboard's "resume this run"): resume ``run_id`` now unless a scan or resume runs.

    Answered :class:`ButtonAnswer` at once; the resume itself runs in the scheduler."""

    run_id: str = attrs.field(validator=attrs.validators.min_len(1))


@frozen(kw_only=True)
class ButtonAnswer:
    """Accepted or refused, with the sentence shown to the user."""

    accepted: bool
    message: str
    run_id: str | None = None
