"""The type a computed column needs to hold every value it can take: aggregates and arithmetic widened.

sqlglot's type annotation gives ``SUM(amount)`` the type of ``amount`` (``DECIMAL(5, 2)``) and
``price * qty`` the type of ``price``: right for the kind of value, wrong for its size. A read model
typed that way overflows on its first fill (``numeric field overflow`` on PostgreSQL, ``Out of
range value`` on MariaDB). :func:`result_type` walks an expression sqlglot has annotated and
recomputes, bottom-up, what can outgrow its inputs, the way the servers themselves widen:

============================  ===========================================================
expression                    type
============================  ===========================================================
``COUNT(...)``                ``BIGINT``
``SUM(int)``                  ``BIGINT`` (``SUM(BIGINT)``: ``DECIMAL(38, 0)``)
``SUM(DECIMAL(p, s))``        ``DECIMAL(38, s)``
``AVG(int or DECIMAL(p, s))`` ``DECIMAL(38, max(s + 4, 6))`` (MariaDB adds 4 digits of scale)
``SUM``/``AVG`` of floats     ``DOUBLE``
``a + b``, ``a - b``          one more integer digit than the wider side (SQL's rule)
``a * b``                     precisions and scales added (SQL's rule), at most 38 digits
``a / b``                     ``DECIMAL(38, max(scale of a + 4, 6))``
``||``, ``CONCAT``            ``VARCHAR`` of the summed lengths, ``TEXT`` when one is unbounded
``COALESCE``, ``CASE``, ...   the widest branch
============================  ===========================================================

Precision stops at 38 digits, the most SQL Server and Oracle hold (PostgreSQL and MariaDB hold
more). Anything else keeps sqlglot's annotation; an expression it could not type gives None.
"""

from __future__ import annotations

from sqlglot import exp

T = exp.DataType.Type
MAX_PRECISION = 38
AVG_SCALE = 6
"""Fractional digits of an average or a quotient at least (MariaDB: the operand's scale + 4)."""

_INT_DIGITS = {T.TINYINT: 3, T.UTINYINT: 3, T.SMALLINT: 5, T.USMALLINT: 5, T.MEDIUMINT: 8, T.UMEDIUMINT: 8,
               T.INT: 10, T.UINT: 10, T.BIGINT: 19, T.UBIGINT: 20, T.BIT: 1}
_DECIMALS = {T.DECIMAL, T.UDECIMAL, T.BIGDECIMAL, T.DECIMAL32, T.DECIMAL64, T.DECIMAL128, T.DECIMAL256, T.MONEY,
             T.SMALLMONEY}
_FLOATS = {T.FLOAT, T.DOUBLE, T.UDOUBLE, T.DECFLOAT}
_TEXT = {T.CHAR, T.NCHAR, T.VARCHAR, T.NVARCHAR, T.NAME, T.TEXT, T.TINYTEXT, T.MEDIUMTEXT, T.LONGTEXT}
_UNBOUNDED_TEXT = {T.TEXT, T.TINYTEXT, T.MEDIUMTEXT, T.LONGTEXT}
_BRANCHES = (exp.Coalesce, exp.Case, exp.If, exp.Greatest, exp.Least, exp.Nullif)


def _build(text: str) -> exp.DataType:
    return exp.DataType.build(text)


def _decimal(precision: int, scale: int) -> exp.DataType:
    scale = max(0, min(scale, MAX_PRECISION))
    return _build(f"DECIMAL({max(min(precision, MAX_PRECISION), scale, 1)}, {scale})")


def _digits(dt: exp.DataType) -> tuple[int, int] | None:
    """(precision, scale) of an exact number type; None for anything else (floats, text, unknown)."""
    if dt.this in _INT_DIGITS:
        return _INT_DIGITS[dt.this], 0
    if dt.this in _DECIMALS:
        params = [p.this.name if isinstance(p, exp.DataTypeParam) else p.name for p in dt.expressions]
        try:
            precision = int(params[0]) if params else MAX_PRECISION
            scale = int(params[1]) if len(params) > 1 else 0
        except ValueError:
            return MAX_PRECISION, 0
        return precision, scale
    return None


def _length(dt: exp.DataType) -> int | None:
    """Characters a text type holds; None when unbounded (or not text)."""
    if dt.this not in _TEXT or dt.this in _UNBOUNDED_TEXT or not dt.expressions:
        return None
    param = dt.expressions[0]
    try:
        return int(param.this.name if isinstance(param, exp.DataTypeParam) else param.name)
    except ValueError:
        return None


def _known(dt: exp.DataType | None) -> bool:
    return dt is not None and dt.this not in (T.UNKNOWN, T.NULL, T.USERDEFINED)


def _integer(dt: exp.DataType) -> bool:
    return dt.this in _INT_DIGITS and dt.this != T.BIT


def _literal(node: exp.Literal) -> exp.DataType:
    if node.is_string:
        return _build(f"VARCHAR({max(len(node.this), 1)})")
    text = node.this.lstrip("-+")
    whole, _, fraction = text.partition(".")
    if "e" in text.lower():
        return _build("DOUBLE")
    if not fraction:
        return _build("INT" if len(whole) < 10 else "BIGINT" if len(whole) < 19 else f"DECIMAL({len(whole)}, 0)")
    return _decimal(len(whole.lstrip("0") or "0") + len(fraction), len(fraction))


def _sum(arg: exp.DataType | None) -> exp.DataType | None:
    if arg is None:
        return None
    if arg.this in _FLOATS:
        return _build("DOUBLE")
    if _integer(arg):
        return _decimal(MAX_PRECISION, 0) if arg.this in (T.BIGINT, T.UBIGINT) else _build("BIGINT")
    digits = _digits(arg)
    return _decimal(MAX_PRECISION, digits[1]) if digits else None


def _avg(arg: exp.DataType | None) -> exp.DataType | None:
    if arg is None:
        return None
    if arg.this in _FLOATS:
        return _build("DOUBLE")
    digits = _digits(arg)
    return _decimal(MAX_PRECISION, max(digits[1] + 4, AVG_SCALE)) if digits else None


def _arithmetic(node: exp.Binary, left: exp.DataType | None, right: exp.DataType | None) -> exp.DataType | None:
    if left is None or right is None:
        return None
    if left.this in _FLOATS or right.this in _FLOATS:
        return _build("DOUBLE")
    a, b = _digits(left), _digits(right)
    if a is None or b is None:
        return None
    (p1, s1), (p2, s2) = a, b
    if isinstance(node, exp.Div):
        return _decimal(MAX_PRECISION, max(s1 + 4, AVG_SCALE))
    if _integer(left) and _integer(right):
        wide = max(p1, p2) + (p2 if isinstance(node, exp.Mul) else 1)
        return _build("BIGINT") if wide <= 18 else _decimal(wide, 0)
    if isinstance(node, exp.Mul):
        return _decimal(p1 + p2, s1 + s2)
    if isinstance(node, exp.Mod):
        return _decimal(max(p1, p2), max(s1, s2))
    scale = max(s1, s2)
    return _decimal(max(p1 - s1, p2 - s2) + scale + 1, scale)


def _text_length(part: exp.DataType | None) -> int | None:
    """Characters a value shows as text: a text type's length, a number's digits plus sign and point."""
    if part is None:
        return None
    if part.this in _TEXT:
        return _length(part)
    digits = _digits(part)
    return digits[0] + 2 if digits is not None else None


def _concat(parts: list[exp.DataType | None]) -> exp.DataType:
    lengths = [_text_length(p) for p in parts]
    if any(n is None for n in lengths):
        return _build("TEXT")
    return _build(f"VARCHAR({sum(n for n in lengths if n is not None)})")


def _widest(types: list[exp.DataType | None]) -> exp.DataType | None:
    """The type holding every branch's values; None when the branches mix kinds it cannot tell apart."""
    known = [t for t in types if t is not None and t.this != T.NULL]
    if not known:
        return None
    if all(t.this in _TEXT for t in known):
        lengths = [_length(t) for t in known]
        return _build("TEXT") if any(n is None for n in lengths) else \
            _build(f"VARCHAR({max(n for n in lengths if n is not None)})")
    if any(t.this in _FLOATS for t in known) and all(t.this in _FLOATS or _digits(t) for t in known):
        return _build("DOUBLE")
    digits = [_digits(t) for t in known]
    if all(d is not None for d in digits):
        pairs = [d for d in digits if d is not None]
        if all(_integer(t) for t in known):
            return max(known, key=lambda t: _INT_DIGITS[t.this])
        scale = max(s for _, s in pairs)
        return _decimal(max(p - s for p, s in pairs) + scale, scale)
    first = known[0]
    return first if all(t.this == first.this for t in known) else None


_SIGNED = {T.UTINYINT: "SMALLINT", T.USMALLINT: "INT", T.UMEDIUMINT: "INT", T.UINT: "BIGINT",
           T.UBIGINT: "DECIMAL(20, 0)"}


def _portable(dt: exp.DataType | None) -> exp.DataType | None:
    """A type every target spells: unsigned integers widened to signed ones, display widths dropped.

    >>> _portable(exp.DataType.build("TINYINT(3) UNSIGNED", dialect="mysql")).sql()
    'SMALLINT'
    """
    if dt is None:
        return None
    if dt.this in _SIGNED:
        return _build(_SIGNED[dt.this])
    if dt.this in _INT_DIGITS and dt.expressions:
        return exp.DataType(this=dt.this)
    return dt


def result_type(node: exp.Expr) -> exp.DataType | None:
    """The type ``node`` (annotated by sqlglot's ``annotate_types``) needs, in terms every target
    spells; None when unknown.

    >>> from sqlglot import parse_one
    >>> from sqlglot.optimizer.annotate_types import annotate_types
    >>> from sqlglot.optimizer.qualify import qualify
    >>> schema = {"payment": {"amount": "DECIMAL(5, 2)", "qty": "SMALLINT", "note": "VARCHAR(20)"}}
    >>> sql = ("SELECT SUM(amount), AVG(amount), COUNT(*), SUM(qty), amount * qty, amount + 1, "
    ...        "note || '!', COALESCE(note, 'no note at all, none whatsoever') FROM payment")
    >>> typed = annotate_types(qualify(parse_one(sql), schema=schema), schema=schema)
    >>> [result_type(e).sql() for e in typed.expressions]  # doctest: +NORMALIZE_WHITESPACE
    ['DECIMAL(38, 2)', 'DECIMAL(38, 6)', 'BIGINT', 'BIGINT', 'DECIMAL(10, 2)', 'DECIMAL(13, 2)', 'VARCHAR(21)',
     'VARCHAR(31)']
    """
    return _portable(_result(node))


def _result(node: exp.Expr) -> exp.DataType | None:
    if isinstance(node, exp.Alias | exp.Paren):
        return _result(node.this)
    if isinstance(node, exp.Literal):
        return _literal(node)
    if isinstance(node, exp.Null):
        return _build("NULL")
    if isinstance(node, exp.Neg):
        return _result(node.this)
    if isinstance(node, exp.Count):
        return _build("BIGINT")
    if isinstance(node, exp.Sum):
        return _sum(_result(node.this))
    if isinstance(node, exp.Avg):
        return _avg(_result(node.this))
    if isinstance(node, exp.Min | exp.Max):
        return _result(node.this)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod):
        return _arithmetic(node, _result(node.left), _result(node.right))
    if isinstance(node, exp.DPipe):
        return _concat([_result(node.left), _result(node.right)])
    if isinstance(node, exp.Concat | exp.ConcatWs):
        return _concat([_result(e) for e in node.expressions])
    if isinstance(node, exp.Case):
        branches = [_result(i.args["true"]) for i in node.args.get("ifs", [])]
        default = node.args.get("default")
        return _widest(branches + ([_result(default)] if default is not None else []))
    if isinstance(node, exp.If):
        return _widest([_result(node.args["true"])] + ([_result(node.args["false"])]
                                                          if node.args.get("false") is not None else []))
    if isinstance(node, _BRANCHES):
        return _widest([_result(node.this), *(_result(e) for e in node.expressions)])
    annotated = node.type
    return annotated if _known(annotated) else None
