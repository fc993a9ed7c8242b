"""The dashboard's read-only view of the database: each call opens its own connection in a worker thread.

apsw connections must not be used by two threads at once, and the pages are served
concurrently, so every call opens a read-only connection (a few hundred microseconds), reads,
and closes it. The dicts are the ones ``bin/scan runs --json`` and ``bin/scan show RUN --json``
print (:mod:`actors.report`), so the API and the CLI cannot drift apart.

Raises :class:`~actors.errors.StoreError` (no database yet, unreadable) and
:class:`~actors.store.reader.RunNotFound`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from actors.report import detail_to_dict, summary_to_dict
from actors.store.reader import open_reader
from actors.web.history import run_settings

__all__ = ["RunStore"]


class RunStore:
    """Reads runs from the database at ``db`` (never writes)."""

    def __init__(self, db: str | Path) -> None:
        self.db = Path(db)

    async def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` runs as ``bin/scan runs --json`` dicts, newest first."""
        return await trio.to_thread.run_sync(self._runs, limit)

    async def report(self, run_id: str) -> dict[str, Any]:
        """Run ``run_id`` (or a unique prefix) as the ``bin/scan show RUN --json`` document."""
        return await trio.to_thread.run_sync(self._report, run_id)

    async def settings(self, run_id: str) -> dict[str, Any]:
        """The settings run ``run_id`` recorded (secrets masked when saved); empty when unreadable."""
        return await trio.to_thread.run_sync(self._settings, run_id)

    def _settings(self, run_id: str) -> dict[str, Any]:
        with open_reader(self.db) as reader:
            return run_settings(reader.load_run(run_id, results=False).settings_json)

    def _runs(self, limit: int) -> list[dict[str, Any]]:
        with open_reader(self.db) as reader:
            return [summary_to_dict(r) for r in reader.list_runs(limit)]

    def _report(self, run_id: str) -> dict[str, Any]:
        with open_reader(self.db) as reader:  # rows as the store wrote them, not structured again (as --json)
            detail = reader.load_run(run_id, results=False)
            report = detail_to_dict(detail, db=str(self.db), results=reader.result_rows(detail.run.id))
        report["results"] = list(report["results"])
        return report
