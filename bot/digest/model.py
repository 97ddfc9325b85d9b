"""Digest schema 1 as typed, frozen values.

Structural rules (types, unknown keys, ranges) live here so pydantic reports them with a path;
rules that need the article text or several fields at once live in ``load.py``.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.digest.text import SLUG as SLUG
from bot.digest.text import fold as fold

Shared = AfterValidator(sys.intern)
"""For texts that recur across a year of digests (source keys, claimants, publishers, units,
regions): one copy serves them all (the cache's pickles keep what they share)."""

Slug = Annotated[str, Field(pattern=SLUG), Shared]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=2000), Shared]
Number = int | float


_FIELD_SETS: dict[frozenset[str], set[str]] = {}


def shared_fields_set(names: set[str]) -> set[str]:
    """The one set of field names that serves every instance given exactly these fields."""
    return _FIELD_SETS.setdefault(frozenset(names), names)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    @model_validator(mode="after")
    def _share_fields_set(self) -> Self:
        """Every instance carries the set of fields its input named: half the memory of a year
        of digests. A frozen model never changes it (copies get their own), so one set per
        distinct combination serves them all."""
        shared = shared_fields_set(self.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self


SourceKind = Literal[
    "publisher",
    "government",
    "military",
    "official",
    "agency",
    "think-tank",
    "analyst",
    "media",
    "social",
    "party",
    "ngo",
    "police",
    "company",
    "court",
    "international",
    "witness",
    "other",
]
"""Who a claimant is; docs/digest-format.md says when to use each (``agency`` is a news agency)."""
Status = Literal["reported", "estimate", "claim"]
"""reported: stated as fact by the publisher; estimate: someone's assessment; claim: one side's."""
Qualifier = Literal["about", "at least", "more than", "up to", "almost"]


class Article(Frozen):
    publisher: Name
    headline: Text
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    text: Annotated[str, Field(min_length=1, max_length=500)]


class Source(Frozen):
    name: Name
    kind: SourceKind
    side: Name | None = None
    """Set when the claimant is a party to the events (a belligerent): its numbers are claims."""
    role: Text | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None


class Item(Frozen):
    source: Slug
    quote: Text

    @property
    def words(self) -> str:
        """What the item says in its own words (the debris rule reads it)."""
        return ""

    @property
    def numbers(self) -> tuple[Number, ...]:
        """The numbers its quote must contain."""
        return ()


class SummaryPoint(Item):
    text: Text

    @property
    def words(self) -> str:
        return self.text


class Figure(Item):
    label: Text
    value: Number | tuple[Number, Number]
    qualifier: Qualifier | None = None
    unit: Name | None = None
    status: Status
    note: Text | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _range_as_tuple(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be a number or [low, high], not true/false")
        if isinstance(value, list):
            if len(value) != 2:
                raise ValueError("a range is exactly [low, high]")
            return tuple(value)
        return value

    @field_validator("value")
    @classmethod
    def _ordered(cls, value: Number | tuple[Number, Number]) -> Number | tuple[Number, Number]:
        if isinstance(value, tuple) and not value[0] < value[1]:
            raise ValueError(f"range low {value[0]} must be below high {value[1]}")
        return value

    @property
    def numbers(self) -> tuple[Number, ...]:
        return self.value if isinstance(self.value, tuple) else (self.value,)

    @property
    def words(self) -> str:
        return self.label


class Place(Item):
    name: Text
    aliases: tuple[Text, ...] = ()
    """Other names users may type for it: other spellings, other scripts (Коренево)."""
    region: Name | None = None
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    what: Text
    note: Text | None = None
    """Where the article's name is ambiguous or the coordinates are approximate, say so here."""

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases_as_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)

    @property
    def words(self) -> str:
        return f"{self.name} {self.what}"

    @field_validator("lat", "lon", mode="before")
    @classmethod
    def _int_ok(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value


TAG = r"^[a-z0-9][a-z0-9-]{0,39}$"
Tag = Annotated[str, Field(pattern=TAG)]
"""A topic a schedule can filter on (``only: {tags: [...]}``): a short slug like ``ukraine``."""


class Reviewed(Frozen):
    """Who approved the digest for chat, when, and through which door (cli, discord, …)."""

    by: Text
    at: AwareDatetime
    via: Literal["cli", "console", "discord", "matrix", "desk"]


class Correction(Frozen):
    """One change to a live digest, derived by diffing two versions (never typed by hand)."""

    at: AwareDatetime
    what: Text


class Digest(Frozen):
    schema_: Literal[1] = Field(alias="schema")
    id: Slug
    title: Text
    published: date
    tags: tuple[Tag, ...] = Field(default=(), max_length=20)
    article: Article
    sources: dict[Slug, Source] = Field(min_length=1)
    summary: tuple[SummaryPoint, ...] = Field(min_length=1)
    figures: tuple[Figure, ...] = ()
    places: tuple[Place, ...] = ()
    reviewed: Reviewed | None = None
    """Set when a named person approved the digest in the review queue."""
    corrections: tuple[Correction, ...] = ()
    """Oldest first; shown under the items, and on every message already posted."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    @field_validator("summary", "figures", "places", "tags", "corrections", mode="before")
    @classmethod
    def _list_as_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({tag for tag in value if value.count(tag) > 1})
        if repeated:
            raise ValueError(f"tag '{repeated[0]}' is listed twice")
        return value

    def claimant(self, item: Item) -> Source:
        return self.sources[item.source]

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.summary), len(self.figures), len(self.places)
