"""YAML → plain data with the line of every value, refusing what a digest never needs.

Two paths give the same data and the same refusals. The fast one composes the document with
libyaml (``CSafeLoader``) and builds plain data from the nodes; it declines — never decides —
whenever a file might hold an anchor, alias, tag, duplicate key, odd key, odd value or absurd
nesting. The authoritative one walks the parser's event stream in Python, refusing each of those
at the first event that shows it and recording the line of every value. Line numbers are needed
only to report a problem, so a file the fast path accepts is walked again only if a caller asks
for a line (``Parsed.line_of``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
MAX_DEPTH = 16
MAX_EVENTS = 200_000


class YamlProblem(Exception):
    def __init__(self, line: int, message: str, path: Path_ = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path


class Parsed:
    """The data of one document, and the line of each value (found when first asked for)."""

    def __init__(self, data: object, lines: dict[Path_, int] | None = None, root: Any = None):
        self.data = data
        self._lines = lines
        self._root = root
        """The fast path's node tree: each node knows its own line (the walk's lines table)."""

    @property
    def lines(self) -> dict[Path_, int]:
        if self._lines is None:
            self._lines = {}
            if self._root is not None:
                _node_lines(self._root, (), self._root.start_mark.line + 1, self._lines)
        return self._lines

    def line_of(self, path: Path_) -> int:
        """The line of the deepest part of ``path`` that exists (a missing key: its mapping)."""
        if self._lines is None:
            return _node_line(self._root, path)
        lines = self._lines
        for cut in range(len(path), -1, -1):
            line = lines.get(path[:cut])
            if line is not None:
                return line
        return 1


def _node_lines(node: Any, path: Path_, line: int, out: dict[Path_, int]) -> None:
    """What the walk records, from a composed node: a mapping's value is on its key's line."""
    out[path] = line
    if type(node) is _SEQ:
        for index, item in enumerate(node.value):
            _node_lines(item, (*path, index), item.start_mark.line + 1, out)
    elif type(node) is _MAP:
        for key, value in node.value:
            _node_lines(value, (*path, key.value), key.start_mark.line + 1, out)


def _node_line(root: Any, path: Path_) -> int:
    """``line_of`` without building the table: follow ``path`` down the node tree."""
    if root is None:
        return 1
    node = root
    line: int = root.start_mark.line + 1
    for part in path:
        if type(node) is _SEQ and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        elif type(node) is _MAP and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        else:
            return line
    return line


@dataclass
class _Frame:
    container: dict[str, object] | list[object]
    path: Path_
    key: str | None = None
    key_line: int = 0


def _events(text: str) -> Iterator[Any]:
    loader = _Loader(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


def _construct(tag: str, value: str) -> object:
    """A plain scalar's value (the constructor's own function, without its memo of every node);
    a plain decimal like 945 or 51.3 directly, as that function would make it."""
    if value.isascii():
        if tag == _INT and value.isdigit() and (value[0] != "0" or value == "0"):
            return int(value)  # not 0777: octal in YAML 1.1
        whole, dot, fraction = value.partition(".")
        if tag == _FLOAT and dot and whole.isdigit() and fraction.isdigit():
            return float(value)
    node = yaml.ScalarNode(tag, value)
    return _constructor.yaml_constructors[tag](_constructor, node)


def _scalar(event: Any, line: int, path: Path_) -> object:
    if event.tag is not None and event.tag != "!":
        raise YamlProblem(line, f"tags are not allowed here ({event.tag})", path)
    if not event.implicit[0]:
        return event.value
    tag = _resolver.resolve(yaml.ScalarNode, event.value, (True, False))  # type: ignore[no-untyped-call]
    if tag not in _ALLOWED_TAGS:
        raise YamlProblem(line, f"unsupported value type ({tag})", path)
    try:
        return _construct(tag, event.value)
    except (ValueError, yaml.YAMLError) as exc:
        raise YamlProblem(line, f"not a valid value: {event.value!r} ({exc})", path) from None


_PROPERTY = re.compile(r"(?<!\w)[&*!]")
"""Where an anchor (&), alias (*) or tag (!) could begin: a node starts only after a space, a
line break, an indicator or the start of the text, never right after a letter or digit."""


def _maybe_property(text: str) -> bool:
    # ``in`` is a memchr scan; the look-behind regex runs only when one of the signs is there.
    return ("&" in text or "*" in text or "!" in text) and _PROPERTY.search(text) is not None


_SCALAR, _SEQ, _MAP = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
_UNTAGGED = "?"
"""What ``_Composer`` resolves every untagged node to; any other tag was written in the file."""
_STR = "tag:yaml.org,2002:str"
_PLAIN_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = (
    yaml.resolver.Resolver.yaml_implicit_resolvers
)
_NONE: list[tuple[str, re.Pattern[str]]] = []
_TYPED_STARTS = frozenset(_PLAIN_RESOLVERS)
"""The first characters of plain scalars that may be other than text (most start otherwise)."""
_ANY_TYPED = None in _PLAIN_RESOLVERS
"""A resolver for any first character (PyYAML's own have none)."""


class _Declined(Exception):
    """The fast path cannot vouch for this file; the event walk decides."""


class _Composer(_Loader):  # type: ignore[misc]
    """libyaml's composer, with the plain scalars' types left to ``_fast`` (which resolves only
    those that can be something other than text) and no path resolvers: those per-node Python
    calls were most of its time. ``_fast`` runs it only on a text that cannot hold a tag (no
    '!' where a node could start): every node is untagged, and its class and scalar style say
    what it is."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return _UNTAGGED

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def _plain_tag(value: str) -> str:
    """The tag an untagged plain scalar resolves to: what ``Resolver.resolve`` decides."""
    for first in (value[:1], None):
        for tag, regexp in _PLAIN_RESOLVERS.get(first, _NONE):
            if regexp.match(value):
                return tag
    return _STR


def _fast(text: str) -> Parsed:
    """The document's data, or ``_Declined`` when anything about it needs the event walk."""
    if _maybe_property(text):
        raise _Declined
    loader = _Composer(text)
    try:
        root = loader.get_single_node()  # more than one document: ComposerError
    finally:
        loader.dispose()
    events = [5]  # stream and document start/end, and the root's start: the walk counts them
    data = None if root is None else _build(root, events)
    if events[0] > MAX_EVENTS:
        raise _Declined
    return Parsed(data, root=root)


def _typed(text: str) -> object:
    """An untagged plain scalar's value, whose first character allows a type."""
    tag = _plain_tag(text)
    if tag == _STR:
        return text
    if tag not in _ALLOWED_TAGS:
        raise _Declined
    return _construct(tag, text)


def _build(node: Any, events: list[int], depth: int = 0) -> object:
    """Plain data from a composed node. ``events`` counts what the event walk would see: a
    collection counts its end and its children's starts and keys (so a scalar, most of a
    digest, is read in place, not called for)."""
    if node.tag is not _UNTAGGED:
        raise _Declined  # a tag written in the file (the text was checked for none: twice sure)
    kind = type(node)
    if kind is _SCALAR:
        text: str = node.value
        typed = not node.style and (_ANY_TYPED or text[:1] in _TYPED_STARTS)
        return _typed(text) if typed else text
    if depth >= MAX_DEPTH:
        raise _Declined
    children = node.value
    if kind is _SEQ:
        events[0] += 1 + len(children)
        items: list[object] = []
        for item in children:
            if type(item) is _SCALAR and item.tag is _UNTAGGED:
                text = item.value
                typed = not item.style and (_ANY_TYPED or text[:1] in _TYPED_STARTS)
                items.append(_typed(text) if typed else text)
            else:
                items.append(_build(item, events, depth + 1))
        return items
    events[0] += 1 + 2 * len(children)
    out: dict[str, object] = {}
    for key, item in children:
        name = key.value
        if type(key) is not _SCALAR or key.tag is not _UNTAGGED or name in out:
            raise _Declined
        if type(item) is _SCALAR and item.tag is _UNTAGGED:
            text = item.value
            typed = not item.style and (_ANY_TYPED or text[:1] in _TYPED_STARTS)
            out[name] = _typed(text) if typed else text
        else:
            out[name] = _build(item, events, depth + 1)
    return out


def parse(text: str) -> Parsed:
    """Parse one YAML document; raise ``YamlProblem`` naming the line of the first problem."""
    try:
        return _fast(text)
    except Exception:  # declining is always safe: the event walk decides
        return _walk(text)


def _walk(text: str) -> Parsed:
    """The authoritative path: every refusal, and the line of every value."""
    parsed = Parsed(data=None, lines={})
    stack: list[_Frame] = []
    documents = 0
    try:
        for count, event in enumerate(_events(text)):
            line = event.start_mark.line + 1
            if count > MAX_EVENTS:
                raise YamlProblem(line, "file is too large or too deeply structured")
            if isinstance(event, yaml.AliasEvent):
                raise YamlProblem(line, "anchors and aliases (&, *) are not allowed")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlProblem(line, "only one YAML document per file (found '---')")
                continue
            if isinstance(event, yaml.StreamStartEvent | yaml.StreamEndEvent):
                continue
            if isinstance(event, yaml.DocumentEndEvent):
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if not stack:
                    parsed.data = done.container
                continue
            if getattr(event, "anchor", None) is not None:
                raise YamlProblem(line, "anchors and aliases (&, *) are not allowed")
            parent = stack[-1] if stack else None
            if isinstance(parent, _Frame) and isinstance(parent.container, dict):
                if parent.key is None:
                    if not isinstance(event, yaml.ScalarEvent):
                        raise YamlProblem(line, "a key must be plain text", parent.path)
                    key = event.value
                    if key in parent.container:
                        raise YamlProblem(line, f"key '{key}' appears twice", parent.path)
                    parent.key, parent.key_line = key, line
                    continue
                path: Path_ = (*parent.path, parent.key)
            elif parent is not None:
                assert isinstance(parent.container, list)
                path = (*parent.path, len(parent.container))
            else:
                path = ()
            parsed.lines[path] = (
                parent.key_line if path and isinstance(path[-1], str) and parent else line
            )
            value: object
            if isinstance(event, yaml.ScalarEvent):
                value = _scalar(event, line, path)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if event.tag is not None and event.tag not in (
                    "tag:yaml.org,2002:map",
                    "tag:yaml.org,2002:seq",
                ):
                    raise YamlProblem(line, f"tags are not allowed here ({event.tag})", path)
                if len(stack) >= MAX_DEPTH:
                    raise YamlProblem(line, f"nested deeper than {MAX_DEPTH} levels", path)
                container: dict[str, object] | list[object] = (
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                )
                value = container
            else:  # pragma: no cover - the parser emits no other events
                raise YamlProblem(line, f"unexpected YAML event {type(event).__name__}")
            if parent is None:
                parsed.data = value
            elif isinstance(parent.container, dict):
                assert parent.key is not None
                parent.container[parent.key] = value
                parent.key = None
            else:
                parent.container.append(value)
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                assert isinstance(value, dict | list)
                stack.append(_Frame(value, path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        what = f"character {exc.character!r}" if isinstance(exc.character, str) else "byte"
        raise YamlProblem(line, f"invalid YAML: unacceptable {what} ({exc.reason})") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, "invalid YAML: " + " ".join(str(exc).split())) from None
    except RecursionError:
        raise YamlProblem(1, "nested too deeply") from None
    return parsed
