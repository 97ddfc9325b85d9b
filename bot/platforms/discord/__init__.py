"""Discord (discord.py 2.x): the only package that imports ``discord``.

``client`` the discord.py client and the ``DiscordAdapter``; ``commands`` the app commands, built
from the command registry; ``pages`` embeds and the ◀ ▶ page buttons; ``poster`` scheduled posts;
``render`` ``Reply`` → embed pages as plain data (no ``discord`` import, tested on its own).
"""
