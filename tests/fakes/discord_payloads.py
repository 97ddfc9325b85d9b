"""JSON objects in the shape Discord's API v10 sends them, complete enough for discord.py."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
_increment = itertools.count()

Json = dict[str, Any]


def snowflake() -> int:
    """A fresh, increasing Discord id (timestamp << 22 | counter)."""
    millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (millis << 22) | (next(_increment) & 0x3FFFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str
    bot: bool = False

    def to_json(self) -> Json:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    position: int = 0
    type: int = 0
    """0 text, 1 DM, 5 announcement, 10/11 thread, 15 forum (Discord's numbers)."""
    available_tags: tuple[Json, ...] = ()
    """A forum's tags: ``{"id", "name", "moderated", "emoji_id", "emoji_name"}``."""
    flags: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    applied_tags: tuple[str, ...] = ()
    overwrites: tuple[Json, ...] = ()
    """``permission_overwrites``: e.g. a member overwrite denying the bot a permission."""


def role(guild_id: int, role_id: int, name: str, position: int, permissions: int) -> Json:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def channel_json(guild_id: int | None, channel: FakeChannel) -> Json:
    """A channel object of the channel's type (text, announcement, forum, thread or DM)."""
    if channel.type == 1:
        return {"id": str(channel.id), "type": 1, "last_message_id": None, "flags": 0}
    data: Json = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": list(channel.overwrites),
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": str(channel.parent_id) if channel.parent_id is not None else None,
        "flags": channel.flags,
    }
    if channel.type == 15:
        data["available_tags"] = list(channel.available_tags)
        data["default_reaction_emoji"] = None
        data["default_sort_order"] = None
        data["default_forum_layout"] = 0
        data["default_thread_rate_limit_per_user"] = 0
        data["default_auto_archive_duration"] = 1440
    if channel.type in (10, 11, 12):
        del data["position"], data["permission_overwrites"], data["topic"]
        data["owner_id"] = str(channel.owner_id)
        data["applied_tags"] = list(channel.applied_tags)
        data["message_count"] = 0
        data["member_count"] = 1
        data["total_message_sent"] = 0
        data["thread_metadata"] = {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso_now(),
            "locked": False,
            "create_timestamp": iso_now(),
        }
    return data


def text_channel(guild_id: int, channel: FakeChannel) -> Json:
    return channel_json(guild_id, channel)


def member(user: FakeUser, *, permissions: int, roles: tuple[int, ...] = ()) -> Json:
    return {
        "user": user.to_json(),
        "nick": None,
        "avatar": None,
        "roles": [str(r) for r in roles],
        "joined_at": "2024-08-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": str(permissions),
        "communication_disabled_until": None,
    }


def guild(
    guild_id: int,
    name: str,
    *,
    owner_id: int,
    channels: list[FakeChannel],
    roles: list[Json],
    members: list[Json],
    application_id: int,
) -> Json:
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": str(channels[0].id) if channels else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "max_members": 500000,
        "member_count": len(members),
        "large": False,
        "unavailable": False,
        "joined_at": "2024-08-01T00:00:00+00:00",
        "channels": [channel_json(guild_id, channel) for channel in channels],
        "threads": [],
        "members": members,
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def application(application_id: int, bot_user: FakeUser, owner: FakeUser) -> Json:
    return {
        "id": str(application_id),
        "name": bot_user.username,
        "icon": None,
        "description": "digest-bot under test",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "bot": bot_user.to_json(),
        "owner": owner.to_json(),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "tags": [],
        "interactions_endpoint_url": None,
        "redirect_uris": [],
        "approximate_guild_count": 1,
    }


def message(
    *,
    message_id: int,
    channel_id: int,
    author: FakeUser,
    body: Json,
    attachments: list[Json],
    webhook_id: int | None = None,
    interaction: Json | None = None,
    application_id: int | None = None,
    mentions: Json | None = None,
) -> Json:
    """A message object built from a create/edit request body."""
    pinged = mentions or {"everyone": False, "users": [], "roles": []}
    data: Json = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author.to_json(),
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": pinged["everyone"],
        "mentions": [_stub_user(user_id) for user_id in pinged["users"]],
        "mention_roles": [str(role_id) for role_id in pinged["roles"]],
        "attachments": attachments,
        "embeds": body.get("embeds") or [],
        "reactions": [],
        "pinned": False,
        "type": 20 if interaction else 0,
        "flags": int(body.get("flags") or 0),
        "components": body.get("components") or [],
    }
    if body.get("nonce") is not None:
        data["nonce"] = body["nonce"]
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
    if application_id is not None:
        data["application_id"] = str(application_id)
    if interaction is not None:
        data["interaction_metadata"] = interaction
    return data


def _stub_user(user_id: int) -> Json:
    return FakeUser(user_id, f"user{user_id}").to_json()
