"""What real Discord rejects, with Discord's own error shapes.

Each ``check_*`` returns the ``errors`` tree of a 50035 "Invalid Form Body" response (empty when
the payload is fine); :func:`form_error` wraps it in the JSON body Discord sends with status 400.
The numbers are Discord's documented limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMANDS_MAX = 100
NONCE_MAX = 25

Errors = dict[str, Any]
"""Discord's nested ``errors`` object: keys are field names or list indexes as strings."""


class DiscordError(Exception):
    """An HTTP error response in Discord's shape: ``{"message": ..., "code": ...}``."""

    def __init__(self, status: int, code: int, message: str, errors: Errors | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def form_error(errors: Errors) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def _leaf(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _too_long(limit: int) -> dict[str, Any]:
    return _leaf("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _put(errors: Errors, path: Sequence[str | int], leaf: dict[str, Any]) -> None:
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).extend(leaf["_errors"])


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters that count towards the 6000 per message, as Discord counts them."""
    total = len(_text(embed.get("title"))) + len(_text(embed.get("description")))
    for field in embed.get("fields") or ():
        total += len(_text(field.get("name"))) + len(_text(field.get("value")))
    total += len(_text((embed.get("footer") or {}).get("text")))
    total += len(_text((embed.get("author") or {}).get("name")))
    return total


def check_embeds(embeds: object, errors: Errors) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        _put(errors, ["embeds"], _leaf("MODEL_TYPE_CONVERT", "Only iterables may be used."))
        return
    if len(embeds) > EMBEDS_MAX:
        _put(
            errors,
            ["embeds"],
            _leaf("BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length."),
        )
    total = 0
    for index, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            _put(errors, ["embeds", index], _leaf("MODEL_TYPE_CONVERT", "Must be an object."))
            continue
        for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
            if len(_text(embed.get(key))) > limit:
                _put(errors, ["embeds", index, key], _too_long(limit))
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            _put(errors, ["embeds", index, "fields"], _too_long(EMBED_FIELDS_MAX))
        for number, field in enumerate(fields):
            for key, limit in (("name", EMBED_FIELD_NAME_MAX), ("value", EMBED_FIELD_VALUE_MAX)):
                text = _text(field.get(key))
                if not text:
                    _put(
                        errors,
                        ["embeds", index, "fields", number, key],
                        _leaf("BASE_TYPE_REQUIRED", "This field is required"),
                    )
                elif len(text) > limit:
                    _put(errors, ["embeds", index, "fields", number, key], _too_long(limit))
        footer = _text((embed.get("footer") or {}).get("text"))
        if len(footer) > EMBED_FOOTER_MAX:
            _put(errors, ["embeds", index, "footer", "text"], _too_long(EMBED_FOOTER_MAX))
        author = _text((embed.get("author") or {}).get("name"))
        if len(author) > EMBED_AUTHOR_MAX:
            _put(errors, ["embeds", index, "author", "name"], _too_long(EMBED_AUTHOR_MAX))
        total += embed_length(embed)
    if total > EMBED_TOTAL_MAX:
        _put(
            errors,
            ["embeds"],
            _leaf(
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
            ),
        )


def check_components(components: object, errors: Errors) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        _put(errors, ["components"], _leaf("MODEL_TYPE_CONVERT", "Only iterables may be used."))
        return
    if len(components) > ACTION_ROWS_MAX:
        _put(errors, ["components"], _too_long(ACTION_ROWS_MAX))
    seen: set[str] = set()
    for row_index, row in enumerate(components):
        if not isinstance(row, dict) or row.get("type") != 1:
            _put(
                errors,
                ["components", row_index, "type"],
                _leaf("UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'),
            )
            continue
        children = row.get("components") or []
        if not children:
            _put(
                errors,
                ["components", row_index, "components"],
                _leaf("BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."),
            )
        if len(children) > BUTTONS_PER_ROW_MAX:
            _put(errors, ["components", row_index, "components"], _too_long(BUTTONS_PER_ROW_MAX))
        for child_index, child in enumerate(children):
            path: list[str | int] = ["components", row_index, "components", child_index]
            if len(_text(child.get("label"))) > BUTTON_LABEL_MAX:
                _put(errors, [*path, "label"], _too_long(BUTTON_LABEL_MAX))
            if child.get("type") == 2 and child.get("style") == 5:
                if not child.get("url"):
                    _put(errors, [*path, "url"], _leaf("BASE_TYPE_REQUIRED", "required"))
                continue
            custom_id = _text(child.get("custom_id"))
            if not custom_id:
                _put(
                    errors,
                    [*path, "custom_id"],
                    _leaf("BASE_TYPE_REQUIRED", "This field is required"),
                )
            elif len(custom_id) > CUSTOM_ID_MAX:
                _put(errors, [*path, "custom_id"], _too_long(CUSTOM_ID_MAX))
            elif custom_id in seen:
                _put(
                    errors,
                    [*path, "custom_id"],
                    _leaf(
                        "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                    ),
                )
            seen.add(custom_id)


def check_allowed_mentions(allowed: object, errors: Errors) -> None:
    if allowed is None:
        return
    if not isinstance(allowed, dict):
        _put(errors, ["allowed_mentions"], _leaf("MODEL_TYPE_CONVERT", "Must be an object."))
        return
    parse = allowed.get("parse") or []
    for index, kind in enumerate(parse):
        if kind not in ("roles", "users", "everyone"):
            _put(
                errors,
                ["allowed_mentions", "parse", index],
                _leaf("BASE_TYPE_CHOICES", "Value must be one of {'roles', 'users', 'everyone'}."),
            )
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            _put(
                errors,
                ["allowed_mentions"],
                _leaf(
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                ),
            )


def check_message(payload: Mapping[str, Any], *, creating: bool, files: int = 0) -> None:
    """Raise the :class:`DiscordError` Discord would answer to this message body."""
    errors: Errors = {}
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        _put(errors, ["content"], _leaf("BASE_TYPE_STRING", "Must be a string."))
    elif content is not None and len(content) > CONTENT_MAX:
        _put(errors, ["content"], _too_long(CONTENT_MAX))
    check_embeds(payload.get("embeds"), errors)
    check_components(payload.get("components"), errors)
    check_allowed_mentions(payload.get("allowed_mentions"), errors)
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > NONCE_MAX:
        _put(errors, ["nonce"], _too_long(NONCE_MAX))
    if errors:
        raise form_error(errors)
    if creating and not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or files
    ):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def check_choices(choices: object) -> None:
    errors: Errors = {}
    if not isinstance(choices, list):
        _put(
            errors, ["data", "choices"], _leaf("MODEL_TYPE_CONVERT", "Only iterables may be used.")
        )
        raise form_error(errors)
    if len(choices) > CHOICES_MAX:
        _put(errors, ["data", "choices"], _too_long(CHOICES_MAX))
    for index, choice in enumerate(choices):
        name = _text(choice.get("name"))
        if not 1 <= len(name) <= CHOICE_NAME_MAX:
            _put(
                errors,
                ["data", "choices", index, "name"],
                _leaf(
                    "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {CHOICE_NAME_MAX} in length."
                ),
            )
        value = choice.get("value")
        if isinstance(value, str) and len(value) > CHOICE_VALUE_MAX:
            _put(errors, ["data", "choices", index, "value"], _too_long(CHOICE_VALUE_MAX))
    if errors:
        raise form_error(errors)


def check_commands(commands: object) -> None:
    """The checks of a bulk overwrite (``PUT .../commands``)."""
    errors: Errors = {}
    if not isinstance(commands, list):
        raise form_error(
            {"_errors": [{"code": "MODEL_TYPE_CONVERT", "message": "Must be a list."}]}
        )
    if len(commands) > COMMANDS_MAX:
        _put(errors, [], _too_long(COMMANDS_MAX))
    names: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        name = _text(command.get("name"))
        kind = int(command.get("type", 1))
        if not COMMAND_NAME.match(name) or name != name.lower():
            _put(errors, [index, "name"], _leaf("APPLICATION_COMMAND_INVALID_NAME", "Invalid name"))
        if (kind, name) in names:
            _put(
                errors,
                [index, "name"],
                _leaf(
                    "APPLICATION_COMMAND_NAME_ALREADY_EXISTS",
                    "Application command names must be unique",
                ),
            )
        names.add((kind, name))
        description = _text(command.get("description"))
        if kind == 1 and not 1 <= len(description) <= COMMAND_DESCRIPTION_MAX:
            _put(
                errors,
                [index, "description"],
                _leaf("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
            )
        _check_options(command.get("options") or [], [index], errors, parent=0)
        _check_install(command, index, errors)
    if errors:
        raise form_error(errors)


SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2
INTEGRATION_TYPES = (0, 1)
"""0: installed to a server; 1: installed to a user's account."""
CONTEXTS = (0, 1, 2)
"""0: in a server; 1: the bot's DM; 2: other DMs and group DMs."""


def _check_options(
    options: list[Any], path: list[str | int], errors: Errors, *, parent: int
) -> None:
    """One level of options: a command's, a subcommand group's or a subcommand's.

    Subcommands (type 1) and groups (type 2) may not be mixed with plain options; a group holds
    only subcommands; a subcommand holds only plain options (so nesting stops at two levels).
    """
    if len(options) > COMMAND_OPTIONS_MAX:
        _put(errors, [*path, "options"], _too_long(COMMAND_OPTIONS_MAX))
    kinds = {int(o.get("type", 0)) for o in options if isinstance(o, dict)}
    nested = kinds & {SUBCOMMAND, SUBCOMMAND_GROUP}
    if nested and kinds - nested:
        _put(
            errors,
            [*path, "options"],
            _leaf(
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command and sub-command group option types are mutually exclusive to all "
                "other types",
            ),
        )
    # parent 0: the command itself; else the type of the option holding these
    allowed_nested = {0: {SUBCOMMAND, SUBCOMMAND_GROUP}, SUBCOMMAND_GROUP: {SUBCOMMAND}}.get(
        parent, set()
    )
    optional_seen = False
    option_names: set[str] = set()
    for number, option in enumerate(options):
        where: list[str | int] = [*path, "options", number]
        kind = int(option.get("type", 0))
        option_name = _text(option.get("name"))
        if not COMMAND_NAME.match(option_name) or option_name != option_name.lower():
            _put(
                errors, [*where, "name"], _leaf("APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            )
        if option_name in option_names:
            _put(
                errors,
                [*where, "name"],
                _leaf(
                    "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                ),
            )
        option_names.add(option_name)
        if not 1 <= len(_text(option.get("description"))) <= COMMAND_DESCRIPTION_MAX:
            _put(
                errors,
                [*where, "description"],
                _leaf("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
            )
        if kind in (SUBCOMMAND, SUBCOMMAND_GROUP):
            if kind not in allowed_nested:
                _put(
                    errors,
                    [*where, "type"],
                    _leaf(
                        "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                        "Sub-command groups hold sub-commands; sub-commands cannot nest further",
                    ),
                )
                continue
            if option.get("required"):
                _put(
                    errors,
                    [*where, "required"],
                    _leaf(
                        "APPLICATION_COMMAND_SUBCOMMAND_REQUIRED",
                        "Sub-commands and groups cannot be required",
                    ),
                )
            children = option.get("options") or []
            if kind == SUBCOMMAND_GROUP and any(
                int(c.get("type", 0)) != SUBCOMMAND for c in children
            ):
                _put(
                    errors,
                    [*where, "options"],
                    _leaf(
                        "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                        "A sub-command group holds only sub-commands",
                    ),
                )
                continue
            _check_options(children, where, errors, parent=kind)
            continue
        if option.get("required"):
            if optional_seen:
                _put(
                    errors,
                    [*path, "options"],
                    _leaf(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    ),
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if option.get("autocomplete") and choices:
            _put(
                errors,
                [*where, "autocomplete"],
                _leaf(
                    "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES",
                    "Autocomplete cannot be set with choices",
                ),
            )
        if option.get("autocomplete") and kind not in (3, 4, 10):
            _put(
                errors,
                [*where, "autocomplete"],
                _leaf(
                    "APPLICATION_COMMAND_AUTOCOMPLETE_TYPE",
                    "Autocomplete needs string or number",
                ),
            )
        if len(choices) > CHOICES_MAX:
            _put(errors, [*where, "choices"], _too_long(CHOICES_MAX))
        if option.get("channel_types") is not None and kind != 7:
            _put(
                errors,
                [*where, "channel_types"],
                _leaf(
                    "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES", "Only channel options take types"
                ),
            )


def _check_install(command: dict[str, Any], index: int, errors: Errors) -> None:
    for key, allowed in (("integration_types", INTEGRATION_TYPES), ("contexts", CONTEXTS)):
        values = command.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or not values:
            _put(
                errors, [index, key], _leaf("BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
            )
            continue
        for number, value in enumerate(values):
            if value not in allowed:
                _put(
                    errors,
                    [index, key, number],
                    _leaf("ENUM_TYPE_COERCE", f'Value "{value}" is not a valid enum value.'),
                )
