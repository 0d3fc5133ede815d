"""Statement normalisation: literals, IN-lists and multi-row VALUES to placeholders, per dialect.

Real logs repeat a few thousand templates millions of times, so every statement is first reduced
to its template with a regex tokenizer (no SQL parsing) and only distinct templates reach sqlglot.
The tokenizer knows just enough of each dialect's lexical rules (quoted identifiers, string
escapes, dollar quoting, comments) to never mistake an identifier for a literal; a fast path
skips it for statements without quotes, comments or dollars, which is most of them.

The result is also what the workload artifact shows: it never carries a literal from the log,
so neither data nor a password typed into a statement can leak into ``workload.json``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

HUGE_IN_LIST = 1000
"""IN-lists (or multi-row VALUES) longer than this are reported as ``huge_in_list``."""

# Every pattern starts with a character class, which lets the regex engine skip ahead to the next
# possible token instead of trying each alternative at every position (5-10x faster); each branch
# then checks, by lookbehind, which character it started on.
_NUM = (
    r"(?<=[0-9])(?<![\w$.][0-9])"
    r"(?:(?<=0)[xX][0-9A-Fa-f]+|[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)(?![\w$])"
)
_STR_STD = r"[^']*(?:''[^']*)*'"  # standard SQL: '' escapes a quote, backslash is ordinary
_STR_BS = r"[^'\\]*(?:(?:\\.|'')[^'\\]*)*'"  # MySQL, PostgreSQL E'...': backslash escapes
_DSTR_BS = r'[^"\\]*(?:(?:\\.|"")[^"\\]*)*"'

_FAST = {
    "postgres": re.compile(rf"[0-9'?$](?:(?<='){_STR_STD}|{_NUM}|(?<=\?)|(?<=\$)[0-9]+)"),
    "mysql": re.compile(rf"[0-9'?](?:(?<='){_STR_BS}|{_NUM}|(?<=\?))"),
    None: re.compile(rf"[0-9'?](?:(?<='){_STR_STD}|{_NUM}|(?<=\?))"),
}
# Statements holding none of these are safe for the fast pattern above (PostgreSQL: a `$` not starting
# a `$1` placeholder opens a dollar-quoted string).
_SPECIAL = {
    "postgres": re.compile(r"[-/\"$`\\](?:(?<=-)-|(?<=/)\*|(?<=[\"`\\])|(?<=\$)(?![0-9]))"),
    "mysql": re.compile(r"[-/\"`#](?:(?<=-)-|(?<=/)\*|(?<=[\"`#]))"),
    None: re.compile(r"[-/\"$`\[\\](?:(?<=-)-|(?<=/)\*|(?<=[\"$`\[\\]))"),
}
# Full tokenizers: group `keep` (quoted identifiers) survives, `skip` (comments) becomes a space,
# anything else matched is a literal or placeholder and becomes `?`.
_FULL = {
    "postgres": re.compile(
        rf"""[-/"$'0-9?](?:
            (?<=-)-(?P<skip>[^\n]*)
          | (?<=/)\*(?P<skip2>.*?\*/)
          | (?<=")(?P<keep>[^"]*(?:""[^"]*)*")
          | (?<=\$)(?:[0-9]+|(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?\$(?P=tag)\$)
          | (?<=[Ee]')(?<![\w$][Ee]'){_STR_BS}
          | (?<='){_STR_STD}
          | {_NUM}
          | (?<=\?)
        )""",
        re.X | re.S,
    ),
    "mysql": re.compile(
        rf"""[-/#`"'0-9?](?:
            (?<=-)-(?=\s|$)(?P<skip>[^\n]*)
          | (?<=\#)(?P<skip3>[^\n]*)
          | (?<=/)\*(?P<skip2>.*?\*/)
          | (?<=`)(?P<keep>[^`]*(?:``[^`]*)*`)
          | (?<="){_DSTR_BS}
          | (?<='){_STR_BS}
          | {_NUM}
          | (?<=\?)
        )""",
        re.X | re.S,
    ),
    None: re.compile(
        rf"""[-/"`\[$'0-9?](?:
            (?<=-)-(?P<skip>[^\n]*)
          | (?<=/)\*(?P<skip2>.*?\*/)
          | (?<=")(?P<keep>[^"]*(?:""[^"]*)*")
          | (?<=`)(?P<keep2>[^`]*(?:``[^`]*)*`)
          | (?<=\[)(?P<keep3>[^\]]*\])
          | (?<=\$)[0-9]+
          | (?<='){_STR_STD}
          | {_NUM}
          | (?<=\?)
        )""",
        re.X | re.S,
    ),
}
# A literal prefix (E'..', X'..', N'..', _utf8mb4'..') or a type keyword (DATE '..') before a
# placeholder: found by a cheap scan from each `?`, then removed by the slower patterns.
_MAYBE_PREFIXED = re.compile(r"\?(?:(?<=[A-Za-z0-9_&]\?)|(?<=[EePpZz] \?))")
_PREFIXED = re.compile(r"(?<![\w$])(?:[EeBbXxNn]|[Uu]&|_[A-Za-z0-9]+\s*)\?")
_TYPED = re.compile(r"\b(?:DATE|TIME|TIMESTAMP|TIMESTAMPTZ|DATETIME)\s+\?", re.I)
# After whitespace is collapsed an IN-list reads "IN (" or "IN(": anchored on the parenthesis.
_IN_LIST = re.compile(
    r"\((?:(?<=[Ii][Nn]\()(?<![\w$][Ii][Nn]\()|(?<=[Ii][Nn] \()(?<![\w$][Ii][Nn] \())\s*\?(?:\s*,\s*\?)*\s*\)"
)
_ROW = r"\((?:\s*(?:\?|NULL|DEFAULT|TRUE|FALSE)\s*,)*\s*(?:\?|NULL|DEFAULT|TRUE|FALSE)\s*\)"
_ROWS = re.compile(rf"(?P<first>{_ROW})(?:\s*,\s*{_ROW})+", re.I)
_DIGEST_ELLIPSIS = re.compile(r"\(\s*\.\.\.\s*\)|\?\s*,\s*\.\.\.(?=\s*\))")
_AUTOCOMMIT = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+|@@(?:SESSION\.)?)?autocommit\s*(?:=|TO)\s*'?(\w+)'?\s*;?\s*$", re.I
)


def _tokenizer(keep: str) -> Callable[[re.Match[str]], str]:
    """The replacement function of a full tokenizer whose quoted identifiers start with ``keep``."""

    def token(m: re.Match[str]) -> str:
        text = m.group(0)
        first = text[0]
        if first in keep:
            return text
        if first in "-/#":
            return " " if len(text) > 1 else first
        return "?"

    return token


class Normalizer:
    """Turns raw statements into templates; one instance per dialect, reused for every line.

    Calling it returns ``(template, longest_list)``: the template text (several statements stay
    joined by ``;``, for the caller to split and report) and the length of the longest IN-list or
    multi-row VALUES it collapsed.

    >>> n = Normalizer("postgres")
    >>> n("SELECT * FROM t1 WHERE id = 42 AND name = 'O''Brien' AND x IN (1, 2, 3)")
    ('SELECT * FROM t1 WHERE id = ? AND name = ? AND x IN (?)', 3)
    >>> n('INSERT INTO "Order" VALUES ($1, $2), ($3, $4) -- app')[0]
    'INSERT INTO "Order" VALUES (?, ?)'
    >>> Normalizer("mysql")('SELECT `a1` FROM t WHERE s = "x" /* c */ AND y IN (...)')[0]
    'SELECT `a1` FROM t WHERE s = ? AND y IN (?)'
    """

    def __init__(self, dialect: str | None = None) -> None:
        self.dialect = dialect
        family = dialect if dialect in ("postgres", "mysql") else None
        self._fast = _FAST[family]
        self._full = _FULL[family]
        self._special = _SPECIAL[family]
        self._token = _tokenizer({"postgres": '"', "mysql": "`"}.get(family or "", '"`['))
        self._longest = 0

    def _in_list(self, m: re.Match[str]) -> str:
        n = m.group(0).count(",") + 1
        if n > self._longest:
            self._longest = n
        return "(?)"

    def _rows(self, m: re.Match[str]) -> str:
        n = m.group(0).count("(")
        if n > self._longest:
            self._longest = n
        return m.group("first")

    def __call__(self, sql: str) -> tuple[str, int]:
        if len(sql) < 64 and "autocommit" in sql.lower():
            m = _AUTOCOMMIT.match(sql)
            if m:
                on = m.group(1).upper() in ("1", "ON", "TRUE")
                return f"SET autocommit = {'ON' if on else 'OFF'}", 0
        if self._special.search(sql) is None:
            text = self._fast.sub("?", sql)
        else:
            text = self._full.sub(self._token, sql)
        if "  " in text or "\n" in text or "\t" in text or "\r" in text:
            text = " ".join(text.split())
        else:
            text = text.strip()
        self._longest = 0
        if "..." in text:
            text = _DIGEST_ELLIPSIS.sub(_ellipsis, text)
        if "?" in text:
            if _MAYBE_PREFIXED.search(text):
                text = _TYPED.sub("?", _PREFIXED.sub("?", text))
            if ", ?" in text or ",?" in text:
                text = _IN_LIST.sub(self._in_list, text)
                if "), (" in text or "),(" in text:
                    text = _ROWS.sub(self._rows, text)
            if "?::" in text:
                text = text.replace("?::", "? ::")
        if text.endswith(";"):
            text = text.rstrip("; ")
        return text, self._longest


def _ellipsis(m: re.Match[str]) -> str:
    return "(?)" if m.group(0)[0] == "(" else "?"


def split_statements(template: str) -> list[str]:
    """The statements of a normalised line, split on ``;`` (safe: literals are gone by then).

    >>> split_statements("BEGIN; UPDATE t SET x = ?; COMMIT")
    ['BEGIN', 'UPDATE t SET x = ?', 'COMMIT']
    """
    return [p for p in (s.strip() for s in template.split(";")) if p]


def fingerprint(template: str) -> str:
    """Stable 16-hex-digit id of a template (the same text gives the same id on every machine).

    >>> fingerprint("SELECT ?") == fingerprint("SELECT ?")
    True
    """
    return hashlib.blake2b(template.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def is_binary(text: str) -> bool:
    """Whether text holds control characters or undecodable bytes: not a statement at all.

    >>> is_binary("SELECT 1"), is_binary("SEL\\x00\\x01ECT")
    (False, True)
    """
    return _UNPRINTABLE.search(text) is not None


def sample_text(text: str, limit: int = 200) -> str:
    """A short, printable excerpt of a (normalised) statement for issue samples.

    >>> sample_text("SELECT\\x00 1", limit=10)
    'SELECT\\\\x00…'
    """
    clean = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256 else "\\ufffd", text)
    return clean if len(clean) <= limit else clean[:limit] + "…"
