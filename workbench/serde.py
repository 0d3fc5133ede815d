"""Reading and writing every stage artifact: one format rule, one version check, atomic writes.

Every artifact model is a plain dataclass; ``to_dict``/``from_dict`` give exact round trips
(``from_dict(T, to_dict(x)) == x``) through cattrs. The rules every artifact follows:

- **Format by file extension**: ``.yaml``/``.yml`` is YAML, ``.csv`` is CSV (a pandas frame, no
  index, ``\\n`` line endings), anything else is JSON (two-space indent, UTF-8, a final newline).
- **A version**: an artifact class declares ``FORMAT: ClassVar[Format]`` (``design/1``); :func:`save`
  and :func:`dumps` write it as the top-level ``format`` key, after the model's own fields, and
  :func:`load`/:func:`from_dict` check it: another artifact's file, a version newer than this
  workbench reads or older than it still reads is a one-line :class:`ArtifactError` naming the
  version found. A file **without** a ``format`` key is read as version 1: files written before the
  key existed, and hand-written ones (a ``decomposition.yaml`` with only ``services:``), keep
  loading; a class whose ``oldest`` readable version is above 1 refuses them instead. Artifacts
  whose top level is a list (``lint.json``, ``advice.json``) carry no version.
- **Atomic**: every file goes to a temporary file in the same folder, renamed over the target
  (``os.replace``) only once complete, so a run that fails leaves the previous artifact intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import cattrs
import yaml
from cattrs.gen import make_dict_structure_fn, override

from workbench.errors import ArtifactError, NotFoundError

T = TypeVar("T")

FORMAT_KEY = "format"
YAML_SUFFIXES = (".yaml", ".yml")
YAML_WIDTH = 110
"""Line width of the YAML we write (the editable ``decomposition.yaml`` reads best at this width)."""

_converter = cattrs.Converter(forbid_extra_keys=False)
_FORMAT = re.compile(r"([a-z][a-z0-9_]*)/([0-9]+)")


@dataclass(frozen=True)
class Format:
    """An artifact's name and version, written as ``name/version`` (``design/1``).

    ``oldest`` is the oldest version this workbench still reads (a reader that can convert older
    files keeps it low; a breaking change raises ``version`` and ``oldest`` together).
    """

    name: str
    version: int = 1
    oldest: int = 1

    def __str__(self) -> str:
        return f"{self.name}/{self.version}"


def format_of(cls: Any) -> Format | None:
    """The :class:`Format` an artifact class declares (None for plain data and lists)."""
    fmt = getattr(cls, "FORMAT", None)
    return fmt if isinstance(fmt, Format) else None


def check_format(expected: Format, found: Any, source: str | None = None) -> None:
    """Refuse a ``format`` value this workbench does not read as ``expected``; None is version 1."""
    where = f"{source}: " if source else ""
    text = f"{expected.name}/1" if found is None else found
    match = _FORMAT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ArtifactError(f"{where}unknown format {found!r}: not a workbench {expected.name} file "
                            f"(this workbench reads {expected})")
    name, version = match.group(1), int(match.group(2))
    if name != expected.name:
        raise ArtifactError(f"{where}a {name} file (format {text}), not a {expected.name} file")
    if version > expected.version:
        raise ArtifactError(f"{where}format {text} is newer than this workbench reads ({expected}): "
                            "update the workbench")
    if version < expected.oldest:
        found_text = text if found is not None else f"none, read as {text}"
        raise ArtifactError(f"{where}format {found_text} is older than this workbench reads "
                            f"({expected.name}/{expected.oldest} to {expected}): run the stage that writes it again")


def to_dict(obj: Any) -> Any:
    """Plain JSON-ready data (dicts, lists, str, int, float, bool, None), without the format key."""
    return _converter.unstructure(obj)


def to_artifact(obj: Any) -> Any:
    """Plain data as an artifact file holds it: :func:`to_dict` plus the ``format`` key of versioned classes."""
    data = to_dict(obj)
    fmt = format_of(type(obj))
    if fmt is not None and isinstance(data, dict):
        data[FORMAT_KEY] = str(fmt)
    return data


def _problem(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return str(exc)


def from_dict(cls: type[T], data: Any, source: str | None = None) -> T:
    """Build ``cls`` from plain data, naming the offending field on failure.

    For a versioned class the ``format`` key is checked (see the module's rules) and dropped;
    ``source`` (a file name) starts the error messages.
    """
    fmt = format_of(cls)
    if fmt is not None and isinstance(data, dict):
        data = dict(data)
        check_format(fmt, data.pop(FORMAT_KEY, None), source)
    try:
        return _converter.structure(data, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        where = f"{source}: " if source else ""
        raise ArtifactError(f"{where}not a valid {getattr(cls, '__name__', cls)}: {_problem(exc)}") from None


def register_structure(cls: type[T], hook: Callable[[Any, type[T]], T], *, passthrough: Iterable[str] = ()
                       ) -> Callable[[Any, type[T]], T]:
    """Build ``cls`` through ``hook`` from now on; returns the plain structuring of ``cls`` with the
    ``passthrough`` fields left as read, for the hook to finish (a field whose type depends on another's).
    """
    keep = override(struct_hook=lambda value, _: value)
    overrides: dict[str, Any] = {name: keep for name in passthrough}
    plain = make_dict_structure_fn(cls, _converter, **overrides)
    _converter.register_structure_hook(cls, hook)
    return plain


def structure(data: Any, cls: type[T]) -> T:
    """``cls`` from plain data, for structure hooks (errors stay cattrs's, so the path is kept)."""
    return _converter.structure(data, cls)


def is_yaml(path: str | Path) -> bool:
    return Path(path).suffix.lower() in YAML_SUFFIXES


def is_csv(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".csv"


def json_text(data: Any) -> str:
    """Plain data as the JSON we write (field order kept: the model's order reads better than sorted)."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"  # standard JSON: no NaN, Infinity


def yaml_text(data: Any) -> str:
    """Plain data as the YAML we write (block style, field order kept)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=YAML_WIDTH)


def csv_text(frame: Any) -> str:
    """A pandas frame as the CSV we write: a header, no index, ``\\n`` line endings."""
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


def dumps(obj: Any) -> str:
    """The JSON an artifact file holds (what :func:`save` writes to a .json path)."""
    return json_text(to_artifact(obj))


def text_for(obj: Any, path: str | Path) -> str:
    """What :func:`save` writes for ``obj`` at ``path``: YAML, CSV or JSON by the path's extension."""
    if is_csv(path):
        if not hasattr(obj, "to_csv"):
            raise TypeError(f"{Path(path).name}: only a table (a pandas DataFrame) can be written as CSV")
        return csv_text(obj)
    data = to_artifact(obj)
    return yaml_text(data) if is_yaml(path) else json_text(data)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[str]]:
    """A text file handle (UTF-8, newlines as written) whose content replaces ``path`` only when the
    block completes; on any error the temporary file is removed and ``path`` is left as it was.
    The folder is created when missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_writer`); returns the path."""
    path = Path(path)
    with atomic_writer(path) as handle:
        handle.write(text)
    return path


def save(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` to ``path`` atomically, in the format its extension names (see the module's rules)."""
    return write_text(path, text_for(obj, path))


def read_data(path: str | Path) -> Any:
    """The plain data of a JSON or YAML artifact file (no model, no version check)."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text) if is_yaml(path) else json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "YAML" if is_yaml(path) else "JSON"
        raise ArtifactError(f"{path}: not valid {kind}: {str(exc).splitlines()[0]}") from None


def load(cls: type[T], path: str | Path) -> T:
    """Read an artifact written by :func:`save` (or by a person) back into ``cls``, checking its version."""
    return from_dict(cls, read_data(path), str(path))
