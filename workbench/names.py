"""Names from people and databases, made safe for each context they reach.

A service name comes from a hand-edited ``decomposition.yaml``; table, column and constraint names
come from the legacy database, which may hold any character. Both end up in generated Python
(Alembic environments), ``alembic.ini``, SQL scripts, Markdown and HTML. Service names are
restricted at the door (:func:`check_service_name`: what an unquoted schema name may be); every
other name is escaped where it is written, by the function for that context, so that no name can
end a string, a comment, a line, a code span or an element early.
"""

from __future__ import annotations

import re

from workbench.errors import ArtifactError

SERVICE_NAME_BYTES = 63
"""PostgreSQL keeps 63 bytes of a name (MySQL/MariaDB 64 characters): a service name fits both."""

_SERVICE_NAME = re.compile(r"[^\W\d]\w*")
_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_MD_ANYWHERE = re.compile(r"([\\`*\[\]<&|~]|(?<![^\W_])_|_(?![^\W_]))")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")


def service_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a service, or None when it can.

    >>> service_name_problem("ordering"), service_name_problem("Bestellungen_2"), service_name_problem("Ünïcode")
    (None, None, None)
    >>> service_name_problem("evil\\"\\"\\" + x")
    'only letters, digits and _ are allowed, starting with a letter or _'
    """
    if not isinstance(name, str) or not name:
        return "a service name is a non-empty string"
    if not _SERVICE_NAME.fullmatch(name) or not name.isprintable():
        return "only letters, digits and _ are allowed, starting with a letter or _"
    if len(name.encode("utf-8")) > SERVICE_NAME_BYTES:
        return f"at most {SERVICE_NAME_BYTES} bytes (PostgreSQL's limit for a schema name)"
    return None


def check_service_name(name: object, where: str = "decomposition") -> str:
    """``name`` if it may name a service; :class:`ArtifactError` in one line otherwise.

    A service name becomes a schema or database name, a folder, and text in generated code and
    documents: it is held to what an unquoted schema name may be (letters, digits and ``_``, not
    starting with a digit, at most 63 bytes).

    >>> check_service_name("crm")
    'crm'
    >>> check_service_name("a\\nb", "decomposition.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.ArtifactError: decomposition.yaml: service name 'a\\nb' is not allowed: only letters, digits ...
    """
    problem = service_name_problem(name)
    if problem is not None:
        shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:77] + "..."
        raise ArtifactError(f"{where}: service name {shown} is not allowed: {problem}")
    return name  # type: ignore[return-value]


def one_line(text: object) -> str:
    """``text`` on one line: every line break and other control character written as an escape.

    For comments (SQL ``--``, ini ``#``) and other line-based text, where a line break in a name
    would end the comment and make the rest of the name code.

    >>> one_line("orders\\nDROP TABLE x; --"), one_line("tab\\there")
    ('orders\\\\nDROP TABLE x; --', 'tab\\\\there')
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() and c not in _BREAKS else repr(c)[1:-1] for c in text)


def sql_comment(text: object) -> str:
    """Text for the rest of a SQL ``--`` comment line (see :func:`one_line`).

    >>> sql_comment("x\\r\\nDROP TABLE t")
    'x\\\\r\\\\nDROP TABLE t'
    """
    return one_line(text)


def py_docstring(text: object) -> str:
    """Text to place inside a ``\"\"\"`` docstring of generated Python: no quote, backslash or line
    break of the text can end the string or the line.

    >>> py_docstring('evil\"\"\" + __import__(\"os\").system(\"id\") + \"\"\"')
    'evil\\\\x22\\\\x22\\\\x22 + __import__(\\\\x22os\\\\x22).system(\\\\x22id\\\\x22) + \\\\x22\\\\x22\\\\x22'
    """
    text = one_line(str(text).replace("\\", "\\\\"))
    return text.replace('"', "\\x22")


def ini_text(text: object, what: str) -> str:
    """A value or comment for ``alembic.ini``: one line, ``%`` doubled (configparser interpolation).

    Raises :class:`ArtifactError` for a line break or control character, which an ini file
    cannot hold (the next line would become a setting).

    >>> ini_text("postgresql://app@db/erp%2Fx", "URL")
    'postgresql://app@db/erp%%2Fx'
    """
    text = str(text)
    if not text.isprintable() or any(c in _BREAKS for c in text):
        raise ArtifactError(f"the {what} holds a line break or control character: it cannot go into alembic.ini")
    return text.replace("%", "%%")


def md_text(text: object) -> str:
    """Text for Markdown prose or a table cell, shown as written and never as markup, a link or HTML.

    Backslash-escapes (CommonMark lets any ASCII punctuation be) what can start markup anywhere
    (``\\ ` * [ ] < & | ~``, and ``_`` at a word's edge), a first character that would start a
    heading, quote or list, and turns line breaks into spaces; the rest stays readable in the file.

    >>> md_text("<script>alert(1)</script> *x* | y_z _w_")
    '\\\\<script>alert(1)\\\\</script> \\\\*x\\\\* \\\\| y_z \\\\_w\\\\_'
    >>> md_text("# not a heading"), md_text("1. not a list"), md_text("a -> b")
    ('\\\\# not a heading', '1\\\\. not a list', 'a -> b')
    """
    flat = str(text) if str(text).isprintable() else " ".join(str(text).split())
    out = _MD_ANYWHERE.sub(r"\\\1", flat)
    if out[:1] in ("#", ">", "-", "+", "="):
        return "\\" + out
    return _MD_ORDERED.sub(r"\1\\\2", out, count=1)


def md_code(text: object) -> str:
    """An inline code span holding ``text`` literally (HTML and Markdown are not interpreted in one):
    the fence is longer than any backtick run inside, line breaks become spaces.

    >>> md_code("orders"), md_code("a`b")
    ('`orders`', '`` a`b ``')
    """
    flat = " ".join(str(text).split()) if not str(text).isprintable() else str(text)
    runs = [len(m) for m in re.findall(r"`+", flat)]
    if not runs:
        return f"`{flat}`" if flat else "` `"
    fence = "`" * (max(runs) + 1)
    return f"{fence} {flat} {fence}"


def md_fence(code: str, language: str = "") -> str:
    """A fenced code block holding ``code`` literally: the fence is longer than any backtick run in it.

    >>> print(md_fence("SELECT 1", "sql"))
    ```sql
    SELECT 1
    ```
    """
    runs = [len(m) for m in re.findall(r"`{3,}", code)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{language}\n{code}\n{fence}"



NAME_LIMITS = {"postgresql": (63, "bytes"), "mysql": (64, "characters")}
"""The longest table or column name each server keeps whole (PostgreSQL cuts longer ones silently)."""


def target_name_problem(name: str, dialect: str, kind: str = "table") -> str | None:
    """Why a table (or column: ``kind``) called ``name`` cannot be created as such in ``dialect``, or None.

    >>> target_name_problem("x" * 64, "postgresql"), target_name_problem("x" * 64, "mysql")
    ('is 64 bytes long: PostgreSQL keeps 63 bytes of a name (it would cut it silently)', None)
    >>> target_name_problem("note ", "mysql")
    "ends with white space (' '), which MariaDB/MySQL refuse"
    >>> target_name_problem("😀", "mysql")
    "holds '😀', beyond what MariaDB/MySQL allow in a name (U+FFFF)"
    """
    if "\x00" in name:
        return "holds a NUL character"
    if not name:
        return "is empty"
    if dialect == "postgresql" and len(name.encode("utf-8")) > 63:
        size = len(name.encode("utf-8"))
        return f"is {size} bytes long: PostgreSQL keeps 63 bytes of a name (it would cut it silently)"
    if dialect == "mysql":
        if len(name) > 64:
            return f"is {len(name)} characters long: MariaDB/MySQL allow 64"
        if name[-1] in " \t\n\r\x0b\x0c":
            return f"ends with white space ({name[-1]!r}), which MariaDB/MySQL refuse"
        wide = next((c for c in name if ord(c) > 0xFFFF), None)
        if wide is not None:
            return f"holds {wide!r}, beyond what MariaDB/MySQL allow in a name (U+FFFF)"
    if dialect == "sqlite" and kind == "table" and name.lower().startswith("sqlite_"):
        return "starts with sqlite_, which SQLite keeps for itself"
    return None
