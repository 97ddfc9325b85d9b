"""The fast path (libyaml's composer) and the event walk agree on every text.

``parse`` takes the fast path and falls back to the walk whenever the fast path declines, so the
property that matters is: whatever the fast path accepts, the walk accepts with the same data
(same types too: ``1``, ``1.0`` and ``True`` are equal in Python but not here).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.digest import yamlsafe
from bot.digest.yamlsafe import YamlProblem, parse
from tests.helpers import base_digest, dump


def typed(value: Any) -> Any:
    """``value`` with every leaf's type spelled out, so that 1 != 1.0 != True."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def walk(text: str) -> tuple[str, Any]:
    try:
        parsed = yamlsafe._walk(text)
    except YamlProblem as exc:
        return "problem", (exc.line, exc.message, exc.path)
    return "data", (typed(parsed.data), parsed.lines)


def public(text: str) -> tuple[str, Any]:
    try:
        parsed = parse(text)
    except YamlProblem as exc:
        return "problem", (exc.line, exc.message, exc.path)
    return "data", (typed(parsed.data), parsed.lines)


def fast_accepts(text: str) -> bool:
    try:
        yamlsafe._fast(text)
    except Exception:  # declined, for whatever reason
        return False
    return True


PIECES = [
    "a",
    "b",
    "key",
    "x y",
    "1",
    "-1",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    ".inf",
    "-.nan",
    "3.5",
    "2024-08-09",
    "2024-13-45",
    "2024-08-09 10:00:00",
    "yes",
    "No",
    "on",
    "true",
    "null",
    "~",
    "",
    "<<",
    "=",
    "'q'",
    '"d"',
    "'it''s'",
    '"\\u00e9"',
    "|",
    ">",
    "|-",
    "&a",
    "*a",
    "&a ",
    "*a ",
    "!!str ",
    "!!int ",
    "!!python/object:os.system ",
    "! ",
    "!x ",
    "!<tag:yaml.org,2002:str> ",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2002:\n",
    "---",
    "--- ",
    "...",
    "? ",
    ": ",
    ":",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    ", ",
    "#",
    " # c",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "\t",
    "M&S",
    "Q & A",
    "2*3",
    "wow!",
    "a!b",
    "\r\n",
    "\u2028",
    "\ufeff",
    "\x85",
    "\x00",
    "caf\u00e9",
]
yamlish = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish)
@example("a: &x 1\n")  # an anchor with no alias: nothing in the composed nodes shows it
@example("a: ! 5\n")  # the non-specific tag: text on the walk, so never an int here
@example("- !!str 5\n")
@example("a: 1\na: 2\n")
@example("1: a\n'1': b\n")  # keys are compared as written
@example("<<: {a: 1}\n")  # no merge keys: '<<' is an ordinary key
@example("a: =\n")
@example("[" * 17 + "]" * 17)
@example("[" * 16 + "]" * 16)
def test_whatever_the_fast_path_accepts_the_walk_accepts_alike(text: str) -> None:
    if fast_accepts(text):
        kind, detail = walk(text)
        assert kind == "data", (text, detail)
        assert typed(yamlsafe._fast(text).data) == detail[0]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish)
def test_parse_gives_what_the_walk_gives(text: str) -> None:
    assert public(text) == walk(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish)
@example("a:\n  - x\n  - {b: 1,\n     c: [2,\n  3]}\nd: |\n  t\n")
def test_a_line_asked_before_any_table_is_the_walks_line(text: str) -> None:
    """``line_of`` follows the fast path's nodes: for every path the walk knows, and for paths
    that leave it (a missing key, an index past the end, a key where a list is), it answers
    what the walk's table answers."""
    if not fast_accepts(text):
        return
    table = yamlsafe._walk(text)
    paths = [(), ("missing",), (0,), (-1,), (True,)]
    for path in table.lines:
        paths += [path, (*path, "missing"), (*path, 0), (*path, 1), (*path, 99)]
    for path in paths:
        assert parse(text).line_of(path) == table.line_of(path), (text, path)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(timezones=st.just(datetime.UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_dumped_data_takes_the_fast_path_with_the_same_result(data: Any, flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    assert public(text) == walk(text)


def dump_flow(data: Any) -> str:
    return yaml.safe_dump(data, default_flow_style=True, allow_unicode=True)


def test_a_digest_takes_the_fast_path() -> None:
    text = dump(base_digest())
    assert fast_accepts(text)
    parsed = parse(text)
    assert parsed.data == yamlsafe._walk(text).data
    assert parsed._lines is None  # no line table until a problem asks for one
    assert parsed.line_of(("figures", 1, "quote")) == yamlsafe._walk(text).line_of(
        ("figures", 1, "quote")
    )


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1]\nb: *x\n",
        "a: &x 1\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "a: 1\n---\nb: 2\n",
        "x: " + "[" * 17 + "]" * 17 + "\n",
        "[" * 100_000 + "]" * 100_000,
        "a: =\n",
        "? [a]\n: b\n",
    ],
)
def test_every_refusal_is_left_to_the_walk(text: str) -> None:
    assert not fast_accepts(text)
    with pytest.raises(YamlProblem) as fast:
        parse(text)
    with pytest.raises(YamlProblem) as slow:
        yamlsafe._walk(text)
    assert (fast.value.line, fast.value.message) == (slow.value.line, slow.value.message)


def test_too_many_events_are_refused_on_both_paths() -> None:
    text = "[" + "1," * yamlsafe.MAX_EVENTS + "1]"
    assert not fast_accepts(text)
    with pytest.raises(YamlProblem, match="too large"):
        parse(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789._-+:eE\u0663", min_size=1, max_size=8))
@example("0777")
@example("0")
@example("12.50")
@example("5.")
@example(".5")
def test_plain_numbers_are_what_pyyaml_makes_of_them(value: str) -> None:
    """``_construct`` reads a plain decimal itself; whatever it reads, PyYAML reads alike."""
    tag = yamlsafe._plain_tag(value)
    if tag not in (yamlsafe._INT, yamlsafe._FLOAT):
        return
    expected = yaml.constructor.SafeConstructor().construct_object(yaml.ScalarNode(tag, value))
    assert typed(yamlsafe._construct(tag, value)) == typed(expected)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(yamlish, values.map(yaml.safe_dump), values.map(dump_flow)),
    st.integers(min_value=0, max_value=60),
)
@example("a: 1\nb: 2\n", 8)
@example("- [1, 2]\n- {a: b}\n", 10)
def test_the_event_cap_holds_on_both_paths(text: str, cap: int) -> None:
    """The fast path counts what the walk would see: it never accepts what the cap refuses."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlsafe, "MAX_EVENTS", cap)
        assert public(text) == walk(text)
