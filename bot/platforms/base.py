"""The adapter contract: what every platform (console, Discord, Matrix) gives the app.

``app.py`` starts each adapter, attaches it to the scheduler as the ``Poster`` of its platform
(paced by its ``limits``), serves them all, and closes them. An adapter builds its own UI from
``bot.commands.registry`` and hands every request to ``Commands.answer``; it has exactly one
error handler, where every failure of an answer ends: logged, and one short line to the user.

The next verbs are added here, once, and then by each adapter:

* ``edit(channel, message_id, reply)`` — replace a posted message in place (a digest's
  correction; Discord message edit, Matrix ``m.replace``), paced like posts;
* ``publish(channel, message_id)`` — the platform's extra for announcement channels.
"""

from __future__ import annotations

from typing import Protocol

from bot.reply import Reply
from bot.schedules.spec import Limits


class PlatformError(RuntimeError):
    """A platform cannot run (refused login, bad settings): one line for the user, no traceback."""


class Adapter(Protocol):
    @property
    def name(self) -> str:
        """The platform's key in schedules and the ledger: console, discord or matrix."""
        ...

    @property
    def limits(self) -> Limits | None:
        """How fast scheduled posts may go out (None: the deliverer's defaults)."""
        ...

    async def start(self) -> None:
        """Connect and log in; a refused login raises here, before anything is served."""
        ...

    async def serve(self) -> None:
        """Answer commands until cancelled (the console: until its input ends)."""
        ...

    async def close(self) -> None:
        """Let answers in flight finish briefly, then disconnect. Safe to call twice."""
        ...

    async def post(self, channel: str, reply: Reply, nonce: str) -> str:
        """A scheduled post as a new message; its id. A 429 is retried by one layer only:
        ``RateLimited`` for the deliverer to wait out, or waited out here and ``GaveUp`` past
        the bound. ``ChannelGone`` on 403/404;
        ``nonce`` makes a re-send recognisable (Discord ``enforce_nonce``, Matrix txn ids)."""
        ...

    # Added by the next issues (see the module docstring):
    # async def edit(self, channel: str, message_id: str, reply: Reply) -> None: ...
    # async def publish(self, channel: str, message_id: str) -> None: ...
