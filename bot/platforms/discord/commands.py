"""The app commands (slash commands), built from the command registry's specs.

One builder for every command, /schedule included: options become typed parameters, with
descriptions, autocomplete and choices set through discord.py's public ``app_commands``
decorators. An admin command is hidden from non-admins by default (Manage Server, a hint to
Discord's UI) and guild-only; the bot checks Manage Server on every use as well.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.commands.base import CommandSpec, OptionSpec

if TYPE_CHECKING:
    from bot.platforms.discord.client import DigestBot

Interaction = discord.Interaction[Any]
Choices = list[app_commands.Choice[str]]
AUTOCOMPLETED = frozenset({"digest", "place", "figure", "schedule", "timezone", "forumtags"})
DESCRIPTION_MAX = 100


POSTABLE = discord.TextChannel | discord.ForumChannel
"""The channels a schedule may name: text and announcement (TextChannel) and forum channels;
Discord's picker offers only these."""


def _option_type(option: OptionSpec) -> Any:
    base: Any = {"int": int, "bool": bool, "channel": POSTABLE, "role": discord.Role}.get(
        option.kind, str
    )
    return base if option.required else base | None


def _completer(
    bot: DigestBot, option: OptionSpec
) -> Callable[[Interaction, str], Coroutine[Any, Any, Choices]]:
    async def complete(interaction: Interaction, current: str) -> Choices:
        return bot.choices(interaction, option.kind, current)

    complete.__qualname__ = complete.__name__ = f"complete_{option.kind}"
    return complete


def app_command(
    bot: DigestBot, spec: CommandSpec
) -> app_commands.Command[Any, ..., None] | app_commands.Group:
    """The app command for ``spec`` (a group of subcommands when it has them).

    Reading commands can be used from a user install too — in DMs and in servers the bot is not
    in; admin commands are guild-install, guild-only, Manage Server by default (and checked)."""
    if spec.subcommands:
        group = app_commands.Group(
            name=spec.name,
            description=spec.description[:DESCRIPTION_MAX],
            guild_only=True,
            default_permissions=discord.Permissions(manage_guild=True)
            if spec.who == "admin"
            else None,
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        )
        for sub in spec.subcommands:
            group.add_command(_leaf(bot, spec, sub))
        return group
    command = _leaf(bot, spec, None)
    if spec.who == "admin":
        command = app_commands.guild_only()(command)
        command = app_commands.default_permissions(manage_guild=True)(command)
        return app_commands.allowed_installs(guilds=True, users=False)(command)
    command = app_commands.allowed_installs(guilds=True, users=True)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)


def _leaf(
    bot: DigestBot, spec: CommandSpec, sub: CommandSpec | None
) -> app_commands.Command[Any, ..., None]:
    """One command (or subcommand ``sub`` of ``spec``): its callback hands the typed values to
    ``bot`` as a request for ``spec`` whose first word is the subcommand."""
    leaf = sub or spec

    async def callback(interaction: Interaction, **values: Any) -> None:
        await bot.answer_command(interaction, spec, values, sub.name if sub else None)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in leaf.options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_option_type(option),
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    callback.__qualname__ = callback.__name__ = f"slash_{spec.name}_{leaf.name}"
    # discord.py reads a command's parameters from its callback's signature.
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    decorated: Any = app_commands.describe(
        **{o.name: o.description[:DESCRIPTION_MAX] for o in leaf.options}
    )(callback)
    completers = {o.name: _completer(bot, o) for o in leaf.options if o.kind in AUTOCOMPLETED}
    if completers:
        decorated = app_commands.autocomplete(**completers)(decorated)
    menus = {
        o.name: [app_commands.Choice(name=c, value=c) for c in o.choices]
        for o in leaf.options
        if o.choices
    }
    if menus:
        decorated = app_commands.choices(**menus)(decorated)
    return app_commands.Command(
        name=leaf.name, description=leaf.description[:DESCRIPTION_MAX], callback=decorated
    )
