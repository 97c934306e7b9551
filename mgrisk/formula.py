"""Formulas as data: a small grammar for model formulas, parsed without ``eval``.

A formula is read into plain records and nothing a user writes is ever run as code. The grammar:

- terms joined by ``+``, removed with ``-``, crossed with ``*`` (``a * b`` = ``a + b + a:b``)
  and ``:`` (interaction), grouped with parentheses; ``1``, ``0`` and ``-1`` are accepted and
  ignored (a Cox model has no intercept);
- a column: a bare name (``egfr``, ``lambda``, ``age.entry``), or any name quoted as
  ``` `serum Mg (mmol/L)` ``` or ``Q("serum Mg (mmol/L)")``;
- ``C(col)`` and ``C(col, Treatment(ref))``: a categorical column (treatment coding, reference
  the first sorted level or ``ref``); text and boolean columns are categorical without ``C``;
- ``rcs(col, k)`` or ``rcs(col, knots=[...])``: a restricted cubic spline;
- ``I(...)`` and the functions log, log2, log10, exp, sqrt, abs (``np.log`` etc. accepted) of
  arithmetic (``+ - * / **``) on columns and numbers.

Anything else (attribute access, other calls, subscripts, lambdas, strings outside ``Q``/``C``)
is an `InputError` naming the piece and what is allowed.

>>> f = parse_formula("C(sex) + log(egfr) + `serum Mg` * age")
>>> [term_label(t) for t in f.terms]
['C(sex)', 'log(egfr)', 'serum Mg', 'age', 'serum Mg:age']
>>> f.columns
('sex', 'egfr', 'serum Mg', 'age')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import InputError

__all__ = [
    "Categorical",
    "Column",
    "Expression",
    "Formula",
    "Spline",
    "evaluate",
    "parse_formula",
    "term_label",
]

#: Functions allowed inside formulas, by name (the numpy function each one is).
FUNCTIONS = {
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
ALLOWED = (
    'allowed: column names (quote other names as `any name` or Q("any name")), + - * : and '
    "parentheses, C(col), C(col, Treatment(ref)), rcs(col, k), I(arithmetic), "
    + ", ".join(FUNCTIONS)
)


@dataclass(frozen=True)
class Column:
    """A column used as it is (numeric; text or boolean columns are coded as categories)."""

    name: str

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class Categorical:
    """``C(col)``: a column coded as categories, against ``reference`` (None: the first level)."""

    name: str
    reference: object = None

    @property
    def label(self) -> str:
        return f"C({self.name})"


@dataclass(frozen=True)
class Spline:
    """``rcs(col, k)``: a restricted cubic spline with k knots placed as rms does, or given."""

    name: str
    knots: int | tuple[float, ...] = 4

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class Expression:
    """Arithmetic on columns (``I(...)`` or an allowed function), as a tree of tuples:
    ``("num", v)``, ``("col", name)``, ``("neg", x)``, ``("op", sym, a, b)``, ``("call", f, x)``."""

    text: str
    tree: tuple

    @property
    def label(self) -> str:
        return self.text

    @property
    def name(self) -> str:
        return self.text


Factor = Column | Categorical | Spline | Expression
Term = tuple  # of factors: one factor is a main effect, several an interaction


@dataclass(frozen=True)
class Formula:
    """Terms (tuples of factors) in the order R gives them: main effects, then interactions."""

    terms: tuple[Term, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every data column the formula reads, in order of first use."""
        names: list[str] = []
        for term in self.terms:
            for factor in term:
                for name in _factor_columns(factor):
                    if name not in names:
                        names.append(name)
        return tuple(names)

    def __add__(self, other: Formula) -> Formula:
        return Formula(_ordered(list(self.terms) + list(other.terms)))

    def without(self, column: str) -> Formula:
        """The formula without the terms that read ``column``."""
        return Formula(
            tuple(t for t in self.terms if not any(column in _factor_columns(f) for f in t))
        )


def term_label(term: Term) -> str:
    """A term's name as R prints it: factors joined by ':'."""
    return ":".join(f.label for f in term)


def _factor_columns(factor) -> list[str]:
    if isinstance(factor, Expression):
        return _tree_columns(factor.tree)
    return [factor.name]


def _tree_columns(tree: tuple) -> list[str]:
    kind = tree[0]
    if kind == "col":
        return [tree[1]]
    if kind == "num":
        return []
    return [c for child in tree[2 if kind in ("op", "call") else 1 :] for c in _tree_columns(child)]


def _ordered(terms: list) -> tuple:
    """Unique terms (a term is its set of factors), main effects before interactions."""
    seen, out = set(), []
    for t in terms:
        key = frozenset(t)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return tuple(sorted(out, key=len))  # stable: order of appearance within a degree


# --- tokens ----------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | `(?P<tick>[^`]*)`
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<op>\*\*|[-+*/:(),=\[\]~])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # num, name, tick, str, op, end
    text: str
    value: object
    pos: int  # 1-based character position


def _tokens(text: str) -> list[_Token]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            where = len(text) - len(text[pos:].lstrip()) + 1
            raise InputError(
                f"formula {text!r}: character {bad!r} at position {where} is not allowed here; "
                f"{ALLOWED}"
            )
        kind = m.lastgroup
        raw = m.group(kind)
        value: object = raw
        if kind == "num":
            value = float(raw)
        elif kind == "str":
            value = raw[1:-1]
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        out.append(_Token(kind, raw, value, start + 1))
        pos = m.end()
    out.append(_Token("end", "end of formula", None, len(text) + 1))
    return out


class _Parser:
    """Recursive descent over the tokens; every rule returns plain records."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    # helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        t = self.tok
        self.i += 1
        return t

    def at(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect(self, op: str) -> None:
        if not self.at(op):
            self.fail(f"expected {op!r}")
        self.take()

    def fail(self, what: str):
        t = self.tok
        piece = "the end of the formula" if t.kind == "end" else repr(t.text)
        raise InputError(f"formula {self.text!r}: {what} at {piece} (position {t.pos}); {ALLOWED}")

    # formula level: + - (lowest), *, : (highest)
    def formula(self) -> Formula:
        if self.tok.kind == "op" and self.tok.text == "~":
            self.fail("give the right-hand side only (no '~')")
        terms = self.sum()
        if self.at("**", "/"):
            self.fail("arithmetic between terms: write it inside I(...)")
        if self.tok.kind != "end":
            self.fail("unexpected")
        return Formula(_ordered(terms))

    def sum(self) -> list:
        terms = [] if self.at("-") else (self.product() or [])
        while self.at("+", "-"):
            sign = self.take().text
            right = self.product()
            if right is None:  # + 1, - 1, + 0: the intercept, which a Cox model has not
                continue
            if sign == "+":
                terms = terms + right
            else:
                gone = {frozenset(t) for t in right}
                terms = [t for t in terms if frozenset(t) not in gone]
        return terms

    def product(self) -> list | None:
        terms = self.interaction()
        while self.at("*"):
            self.take()
            right = self.interaction()
            terms = self.crossable(terms) + self.crossable(right) + _cross(terms, right)
        return terms

    def interaction(self) -> list | None:
        terms = self.primary()
        while self.at(":"):
            self.take()
            terms = _cross(self.crossable(terms), self.crossable(self.primary()))
        return terms

    def crossable(self, terms: list | None) -> list:
        if terms is None:
            self.i -= 1
            self.fail("a number cannot be crossed with a term (use I(...) for arithmetic)")
        return terms

    def primary(self) -> list:
        t = self.tok
        if self.at("("):
            self.take()
            terms = self.sum()
            self.expect(")")
            return terms
        if t.kind == "num":
            if t.value not in (0.0, 1.0):
                self.fail("a number on its own is not a term (use I(...) for arithmetic)")
            self.take()
            return None  # the intercept: a Cox model has none
        return [(self.factor(),)]

    def factor(self):
        t = self.tok
        if t.kind == "tick":
            self.take()
            return Column(self._column_name(t))
        if t.kind != "name":
            self.fail("expected a column name or an allowed function")
        self.bare_name()
        if not self.at("("):
            return Column(t.text)
        func = t.text
        self.take()  # (
        if func == "Q":
            name = self.string_argument()
            self.expect(")")
            return Column(name)
        if func == "C":
            return self.categorical()
        if func == "rcs":
            return self.spline()
        start = self.tok.pos
        if func == "I":
            tree = self.arith()
        elif _function_name(func):
            tree = ("call", _function_name(func), self.arith())
        else:
            self.i -= 2
            self.fail(f"function {func!r} is not allowed")
        end = self.tok.pos
        self.expect(")")
        inner = self.text[start - 1 : end - 1].strip()
        text = f"I({inner})" if func == "I" else f"{_function_name(func)}({inner})"
        return Expression(text, tree)

    def bare_name(self) -> _Token:
        """An unquoted name; dunder pieces (``__class__``) are refused, whatever follows."""
        t = self.tok
        if any(p.startswith("__") and p.endswith("__") for p in t.text.split(".")):
            self.fail("dunder names are not allowed (quote a column named so as `name`)")
        return self.take()

    def _column_name(self, t: _Token) -> str:
        if not t.value.strip():
            self.i -= 1
            self.fail("an empty column name")
        return t.value

    def string_argument(self) -> str:
        t = self.tok
        if t.kind != "str":
            self.fail('expected a quoted column name, as in Q("serum Mg (mmol/L)")')
        self.take()
        return t.value

    def column_argument(self) -> str:
        """A column inside C(...), rcs(...) or arithmetic: bare, `quoted`, "quoted" or Q("...")."""
        t = self.tok
        if t.kind == "name" and t.text == "Q" and self.tokens[self.i + 1].text == "(":
            self.take()
            self.take()
            name = self.string_argument()
            self.expect(")")
            return name
        if t.kind == "name":
            return self.bare_name().text
        if t.kind in ("tick", "str"):
            self.take()
            return self._column_name(t)
        self.fail("expected a column name")

    def categorical(self) -> Categorical:
        name = self.column_argument()
        reference = None
        if self.at(","):
            self.take()
            t = self.tok
            if not (t.kind == "name" and t.text == "Treatment"):
                self.fail("C(col, ...) takes only Treatment(reference)")
            self.take()
            self.expect("(")
            if self.tok.kind == "name" and self.tok.text == "reference":
                self.take()
                self.expect("=")
            ref = self.take()
            if ref.kind not in ("num", "str"):
                self.i -= 1
                self.fail("the reference level must be a number or a quoted string")
            reference = ref.value
            self.expect(")")
        self.expect(")")
        return Categorical(name, reference)

    def spline(self) -> Spline:
        name = self.column_argument()
        knots: int | tuple[float, ...] = 4
        if self.at(","):
            self.take()
            if self.tok.kind == "name" and self.tok.text in ("knots", "df"):
                self.take()
                self.expect("=")
            if self.at("["):
                self.take()
                values = [self.number()]
                while self.at(","):
                    self.take()
                    values.append(self.number())
                self.expect("]")
                knots = tuple(values)
            else:
                k = self.number()
                if k != int(k) or not 3 <= k <= 10:
                    self.i -= 1
                    self.fail("the number of knots must be a whole number from 3 to 10")
                knots = int(k)
        self.expect(")")
        return Spline(name, knots)

    def number(self) -> float:
        sign = -1.0 if self.at("-") and self.take() else 1.0
        t = self.tok
        if t.kind != "num":
            self.fail("expected a number")
        self.take()
        return sign * t.value

    # arithmetic inside I(...) and functions
    def arith(self) -> tuple:
        left = self.arith_term()
        while self.at("+", "-"):
            op = self.take().text
            left = ("op", op, left, self.arith_term())
        return left

    def arith_term(self) -> tuple:
        left = self.unary()
        while self.at("*", "/"):
            op = self.take().text
            left = ("op", op, left, self.unary())
        return left

    def unary(self) -> tuple:
        if self.at("-"):
            self.take()
            return ("neg", self.unary())
        if self.at("+"):
            self.take()
            return self.unary()
        base = self.atom()
        if self.at("**"):
            self.take()
            return ("op", "**", base, self.unary())
        return base

    def atom(self) -> tuple:
        t = self.tok
        if t.kind == "num":
            self.take()
            return ("num", t.value)
        if self.at("("):
            self.take()
            inner = self.arith()
            self.expect(")")
            return inner
        if t.kind == "tick":
            self.take()
            return ("col", self._column_name(t))
        if t.kind == "name":
            if self.tokens[self.i + 1].text == "(" and self.tokens[self.i + 1].kind == "op":
                if t.text == "Q":
                    return ("col", self.column_argument())
                func = _function_name(t.text)
                if func is None:
                    self.fail(f"function {t.text!r} is not allowed")
                self.take()
                self.take()
                inner = self.arith()
                self.expect(")")
                return ("call", func, inner)
            return ("col", self.bare_name().text)
        self.fail("expected a column, a number or an allowed function")


def _function_name(name: str) -> str | None:
    """'log' for log, np.log or numpy.log; None for anything not allowed."""
    for prefix in ("np.", "numpy."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name if name in FUNCTIONS else None


def _cross(left: list, right: list) -> list:
    """Interactions of every term of ``left`` with every term of ``right``."""
    out = []
    for a in left:
        for b in right:
            merged = tuple(dict.fromkeys(a + b))
            out.append(merged)
    return out


@lru_cache(maxsize=256)
def parse_formula(text: str | None) -> Formula:
    """Read a right-hand-side formula into a `Formula` (no code is evaluated).

    Parameters
    ----------
    text : str or None
        E.g. ``"age + C(sex) + log(egfr) + `serum Mg (mmol/L)`"``; None or "" is no term.

    Examples
    --------
    >>> parse_formula("rcs(pgr, 4) + nodes").terms
    ((Spline(name='pgr', knots=4),), (Column(name='nodes'),))
    """
    if text is None or not str(text).strip():
        return Formula()
    if not isinstance(text, str):
        raise InputError(f"formula must be text, got {type(text).__name__}")
    return _Parser(text).formula()


def evaluate(tree: tuple, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Compute an `Expression` tree on float arrays (numpy only; nothing is evaluated as code).

    >>> evaluate(parse_formula("I(a / 2 + 1)").terms[0][0].tree, {"a": np.array([2.0, 4.0])})
    array([2., 3.])
    """
    kind = tree[0]
    if kind == "num":
        return np.float64(tree[1])
    if kind == "col":
        return columns[tree[1]]
    if kind == "neg":
        return -evaluate(tree[1], columns)
    if kind == "call":
        with np.errstate(all="ignore"):
            return FUNCTIONS[tree[1]](evaluate(tree[2], columns))
    a, b = evaluate(tree[2], columns), evaluate(tree[3], columns)
    with np.errstate(all="ignore"):
        if tree[1] == "+":
            return a + b
        if tree[1] == "-":
            return a - b
        if tree[1] == "*":
            return a * b
        if tree[1] == "/":
            return a / b
        return np.power(a, b)
