"""The adapter contract: what every platform (console, Discord, Matrix) gives the app.

``app.py`` starts each adapter, attaches it to the scheduler as the ``Poster`` of its platform
(paced by its ``limits``), serves them all, and closes them. An adapter builds its own UI from
``bot.commands.registry`` and hands every request to ``Commands.answer``; it has exactly one
error handler, where every failure of an answer ends: logged, and one short line to the user.

The platforms' extras — publishing in announcement channels, forum posts, threads, a ping —
are not verbs of their own: they sit behind ``post``, steered by the post's ``Placement`` (the
schedule's options, the digest's title and thread), so the scheduler never learns a platform's
kinds of channel. ``inspect`` says what a channel is, for the checks at ``/schedule add`` and
at start. ``edit(channel, message_ids, reply)`` replaces a posted message in place (a digest's
correction; Discord message edit, Matrix ``m.replace``), paced like posts. A new verb is added
here, once, and then by each adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.platforms import PlatformError as PlatformError
from bot.reply import Reply
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.spec import Limits
from bot.schedules.targets import ChannelFacts


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

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        """A scheduled post; what was posted. A 429 is retried by one layer only:
        ``RateLimited`` for the deliverer to wait out, or waited out here and ``GaveUp`` past
        the bound. ``ChannelGone`` on 403/404;
        ``nonce`` makes a re-send recognisable (Discord ``enforce_nonce``, Matrix txn ids).

        ``placement`` carries the platform's extras, each behind this one verb: Discord
        publishes in announcement channels (within the per-channel budget), makes one forum
        post per digest with its tags, opens a thread per post and pings exactly the
        schedule's role; Matrix puts later posts of a digest in the thread of its first and
        pings ``@room``. What did not happen as configured comes back in ``Posted.note``."""
        ...

    async def inspect(self, channel: str, options: PostOptions) -> ChannelFacts | None:
        """What the channel is (kind, forum tags, the bot's permissions there, roles), for
        the checks at ``/schedule add`` and at start (``bot.schedules.targets``); None when
        the bot cannot see it."""
        ...

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        """Replace the post made of ``message_ids`` with ``reply`` (a correction); the ids it
        spans now (more when the corrected post needs another message). ``ChannelGone`` when
        the message was deleted (404): noted by the deliverer, not retried. Rate limits as for
        ``post``. The console, which cannot change what it printed, prints the new version."""
        ...
