"""YAML → plain data with the line of every value, refusing what a digest never needs.

Built on the parser's event stream (libyaml's C parser when present) rather than on a loader, so
that anchors/aliases (alias bombs), tags (object construction), duplicate keys and absurd nesting
are refused at the first event that shows them, before anything is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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


@dataclass
class Parsed:
    data: object
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of the deepest part of ``path`` that exists (a missing key: its mapping)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return 1


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


def _scalar(event: Any, line: int, path: Path_) -> object:
    if event.tag is not None and event.tag != "!":
        raise YamlProblem(line, f"tags are not allowed here ({event.tag})", path)
    if not event.implicit[0]:
        return event.value
    tag = _resolver.resolve(yaml.ScalarNode, event.value, (True, False))  # type: ignore[no-untyped-call]
    if tag not in _ALLOWED_TAGS:
        raise YamlProblem(line, f"unsupported value type ({tag})", path)
    node = yaml.ScalarNode(tag, event.value)
    try:
        return _constructor.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError) as exc:
        raise YamlProblem(line, f"not a valid value: {event.value!r} ({exc})", path) from None


def parse(text: str) -> Parsed:
    """Parse one YAML document; raise ``YamlProblem`` naming the line of the first problem."""
    parsed = Parsed(data=None)
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
