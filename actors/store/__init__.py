"""Storage: the persister actor (the only SQLite writer) and read-only queries.

Callers send ``Request(command, reply_to)`` (``actors.runtime.envelope``) with a command from
``messages.storage`` to the persister's inbox and get the acknowledgement after COMMIT, or
``Failure(StoreError)``. The CLI and the dashboard read through :mod:`actors.store.reader`.
"""

from actors.store.owners import OwnerLease
from actors.store.paths import default_db_path, state_directory
from actors.store.persister import Persister, PersisterStatistics, run_persister
from actors.store.reader import RunDetail, RunNotFound, RunSummary, StoreReader, list_runs, load_run, open_reader

__all__ = [
    "OwnerLease",
    "Persister",
    "PersisterStatistics",
    "RunDetail",
    "RunNotFound",
    "RunSummary",
    "StoreReader",
    "default_db_path",
    "list_runs",
    "load_run",
    "open_reader",
    "run_persister",
    "state_directory",
]
