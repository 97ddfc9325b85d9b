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
AUTOCOMPLETED = frozenset({"digest", "place", "figure"})
DESCRIPTION_MAX = 100


def _option_type(option: OptionSpec) -> Any:
    base: type = {"int": int, "bool": bool}.get(option.kind, str)
    return base if option.required else base | None


def _completer(
    bot: DigestBot, option: OptionSpec
) -> Callable[[Interaction, str], Coroutine[Any, Any, Choices]]:
    async def complete(interaction: Interaction, current: str) -> Choices:
        return bot.choices(interaction, option.kind, current)

    complete.__qualname__ = complete.__name__ = f"complete_{option.kind}"
    return complete


def app_command(bot: DigestBot, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
    """The app command for ``spec``: its callback hands the typed values to ``bot``."""

    async def callback(interaction: Interaction, **values: Any) -> None:
        await bot.answer_command(interaction, spec, values)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in spec.options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_option_type(option),
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    callback.__qualname__ = callback.__name__ = f"slash_{spec.name}"
    # discord.py reads a command's parameters from its callback's signature.
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    decorated: Any = app_commands.describe(
        **{o.name: o.description[:DESCRIPTION_MAX] for o in spec.options}
    )(callback)
    completers = {o.name: _completer(bot, o) for o in spec.options if o.kind in AUTOCOMPLETED}
    if completers:
        decorated = app_commands.autocomplete(**completers)(decorated)
    menus = {
        o.name: [app_commands.Choice(name=c, value=c) for c in o.choices]
        for o in spec.options
        if o.choices
    }
    if menus:
        decorated = app_commands.choices(**menus)(decorated)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name, description=spec.description[:DESCRIPTION_MAX], callback=decorated
    )
    if spec.who == "admin":
        command = app_commands.guild_only()(command)
        command = app_commands.default_permissions(manage_guild=True)(command)
    return command
