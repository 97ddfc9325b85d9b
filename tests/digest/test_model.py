"""Memory of a loaded digest: instances share what does not differ between them."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bot.digest.library import Library
from bot.digest.load import load_digest
from tests.helpers import WriteDigest, base_digest


def test_instances_share_their_set_of_given_fields(write_digest: WriteDigest) -> None:
    one = load_digest(write_digest(name="a.yaml")).digest
    other = base_digest()
    other["id"] = "storm-other"
    two = load_digest(write_digest(other, name="b.yaml")).digest
    assert two.summary[0].__pydantic_fields_set__ is one.summary[0].__pydantic_fields_set__
    assert two.figures[0].model_fields_set == {
        "label",
        "value",
        "unit",
        "status",
        "source",
        "quote",
    }
    assert one.figures[2].model_fields_set == one.figures[0].model_fields_set | {"qualifier"}


def test_a_copy_does_not_change_the_shared_set(write_digest: WriteDigest) -> None:
    digest = load_digest(write_digest()).digest
    figure = digest.figures[0]
    shared = set(figure.model_fields_set)
    copy = figure.model_copy(update={"note": "checked"})
    assert copy.note == "checked"
    assert "note" in copy.model_fields_set
    assert figure.model_fields_set == shared
    assert "note" not in load_digest(write_digest()).digest.figures[0].model_fields_set


@pytest.mark.parametrize("enabled", [True, False])
def test_refresh_leaves_the_collector_as_it_found_it(
    write_digest: WriteDigest, tmp_path: Path, enabled: bool
) -> None:
    write_digest()
    (gc.enable if enabled else gc.disable)()
    try:
        seen: list[bool] = []
        library = Library(tmp_path)
        original = library._refresh

        def spying() -> object:
            seen.append(gc.isenabled())
            return original()

        library._refresh = spying  # type: ignore[method-assign,assignment]
        library.refresh()
        assert seen == [False]  # paused while loading
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


@pytest.mark.parametrize("cached", [False, True])
def test_recurring_names_are_one_object_across_digests(
    write_digest: WriteDigest, tmp_path: Path, cached: bool
) -> None:
    write_digest(name="a.yaml")
    other = base_digest()
    other["id"] = "storm-other"
    write_digest(other, name="b.yaml")
    cache = tmp_path / "cache"
    library = Library(tmp_path, cache=cache)
    library.refresh()
    if cached:  # read back from the cache's JSON, not from YAML
        library = Library(tmp_path, cache=cache)
        library.refresh()
    one, two = library.get("storm-2024-01-08"), library.get("storm-other")
    assert one is not None
    assert two is not None
    assert one is not two
    assert one.figures[0].source is two.figures[0].source is one.summary[0].source
    assert one.sources["union"].name is two.sources["union"].name
    assert one.figures[0].unit is two.figures[0].unit
    assert one.article.publisher is two.article.publisher
