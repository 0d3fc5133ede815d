"""JSON/YAML (de)serialisation of the stage artifacts' dataclasses, through cattrs.

Every artifact model is a plain dataclass; ``to_dict``/``from_dict`` give exact round trips
(``from_dict(T, to_dict(x)) == x``), and ``save``/``load`` pick JSON or YAML by file suffix.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

import cattrs
import yaml

from workbench.errors import ArtifactError, NotFoundError

T = TypeVar("T")

_converter = cattrs.Converter(forbid_extra_keys=False)


def to_dict(obj: Any) -> Any:
    """Plain JSON-ready data (dicts, lists, str, int, float, bool, None)."""
    return _converter.unstructure(obj)


def from_dict(cls: type[T], data: Any) -> T:
    """Build ``cls`` from plain data, naming the offending field on failure."""
    try:
        return _converter.structure(data, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        detail = "; ".join(cattrs.transform_error(exc)) if isinstance(exc, cattrs.BaseValidationError) else str(exc)
        raise ArtifactError(f"not a valid {cls.__name__}: {detail}") from None


def register(cls: type[T], structure: Callable[[Any], T]) -> None:
    """Build ``cls`` from plain data with ``structure`` (a model whose own constructor checks the
    values, or that reads null as "the default")."""
    _converter.register_structure_hook(cls, lambda data, _: structure(data))


def dumps(obj: Any) -> str:
    """Stable JSON text (sorted keys not used: field order is the model's, which reads better)."""
    return json.dumps(to_dict(obj), indent=2, ensure_ascii=False) + "\n"


def save(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` to ``path`` as JSON, or YAML when the suffix is .yaml/.yml."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(to_dict(obj), sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(dumps(obj), encoding="utf-8")
    return path


def load(cls: type[T], path: str | Path) -> T:
    """Read an artifact written by :func:`save` (or by a person) back into ``cls``."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ArtifactError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}") from None
    return from_dict(cls, data)
