"""Any YAML gives a digest or a clear one-line error — never a traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.load import DigestInvalid, Loaded, load_digest
from tests.helpers import ARTICLE, base_digest, dump

PROBLEM = re.compile(r"^.+:\d+: .+$")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def outcome(text: str | bytes) -> Loaded | DigestInvalid:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "articles").mkdir()
        (Path(folder) / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
        path = Path(folder) / "d.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        try:
            return load_digest(path)
        except DigestInvalid as exc:
            invalid = exc
    assert invalid.problems
    for problem in invalid.problems:
        line = str(problem)
        assert PROBLEM.match(line), line
        assert "\n" not in line, line
        assert str(path) in line
    return invalid


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    outcome(data)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_valid_digest_with_any_one_part_replaced(data: st.DataObject) -> None:
    digest = base_digest()
    path = data.draw(st.sampled_from(_paths(digest)[1:]))
    replacement = data.draw(values)
    parent: Any = digest
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = replacement
    try:
        text = dump(digest)
    except yaml.YAMLError:
        return
    outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_valid_digest_cut_anywhere(data: st.DataObject) -> None:
    text = dump(base_digest())
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    noise = data.draw(st.sampled_from(["", "&a ", "*a", "!!python/none ", ": :", "- ", "\t", "'"]))
    outcome(text[:cut] + noise + text[cut:])
