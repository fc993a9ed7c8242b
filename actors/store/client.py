"""The caller's side of the persister: send a command, wait until it is committed.

``StoreClient(address, timeout=...)`` wraps the persister's inbox. ``await client.send(cmd)``
returns the acknowledgement, which the persister sends only after COMMIT; a ``Failure`` answer
re-raises its ``StoreError``; a persister that does not answer in ``timeout`` seconds (trio
clock) or has died raises ``StoreError`` too, so callers handle one error type.
"""

from __future__ import annotations

from typing import Any

import trio

from actors.errors import StoreError
from actors.runtime import ActorDied, RequestTimeout, request


class StoreClient:
    def __init__(self, address: Any, *, timeout: float = 60.0) -> None:
        self._address = address
        self._timeout = timeout

    async def send(self, command: object) -> Any:
        """Send ``command`` and return its acknowledgement.

        Raises:
            StoreError: the command failed, the persister is gone, or it did not answer in time.
        """
        try:
            return await request(self._address, command, timeout=self._timeout)
        except (ActorDied, RequestTimeout) as exc:
            raise StoreError(f"persister did not acknowledge {type(command).__name__}: {exc}") from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise StoreError(f"persister is not running ({type(command).__name__} not saved)") from exc
