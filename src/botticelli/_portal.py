"""An anyio blocking portal on a daemon thread, stopped by an explicit call only.

``anyio.from_thread.start_blocking_portal`` is a context manager; held open by an object
(a :class:`~botticelli.sync.SyncModel` nobody closed), its generator is finalized while
the interpreter shuts down, when the portal's daemon thread is already frozen, and the
stop it then sends waits forever: the process never exits. Started here, a portal that
is never stopped just ends with the process.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

import anyio
from anyio.from_thread import BlockingPortal

__all__ = ["DaemonPortal"]


class DaemonPortal:
    """A :class:`~anyio.from_thread.BlockingPortal` running an event loop in a daemon thread.

    Args:
        backend: ``"asyncio"`` or ``"trio"``.
    """

    def __init__(self, backend: str = "asyncio") -> None:
        started: Future[BlockingPortal] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                started.set_result(portal)
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(serve, backend=backend)
            except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits for the start
                if not started.done():
                    started.set_exception(exc)

        self._thread = threading.Thread(target=run, name="botticelli-sync", daemon=True)
        self._thread.start()
        self.portal = started.result()

    def stop(self) -> None:
        """Cancel what still runs on the loop, end it and wait for the thread."""
        self.portal.call(self.portal.stop, True)
        self._thread.join()
