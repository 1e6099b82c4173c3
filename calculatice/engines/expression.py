"""Reading a typed calculation such as ``(8 − 2) × 5`` safely, without ``eval``.

A pupil's calculation is cut into tokens by a small tokenizer and read by a
recursive-descent parser over the grammar::

    calculation := expression ["=" number]
    expression  := term (("+" | "-") term)*
    term        := factor (("*" | "/") factor)*
    factor      := number | "(" expression ")"

Every sign a keyboard or a phone gives is accepted (``*``, ``x``, ``X``,
``×``, ``·`` for times; ``/``, ``:``, ``÷`` for divided by; ``-``, ``−``,
``–`` for minus), numbers take a decimal comma or point and may group their
thousands with a space. Values are exact fractions. Anything else (letters,
unbalanced parentheses, a sign with nothing after it) is unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from calculatice.numbers import write_number

MAX_LENGTH = 60
"""Longest calculation read; a longer text is unreadable, which bounds the parser's work."""

_SIGNS = {
    "+": "+",
    "-": "-",
    "\u2212": "-",
    "\u2013": "-",
    "*": "*",
    "x": "*",
    "X": "*",
    "\u00d7": "*",
    "\u00b7": "*",
    "/": "/",
    ":": "/",
    "\u00f7": "/",
    "(": "(",
    ")": ")",
    "=": "=",
}
_FRENCH_SIGNS = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "\u00f7"}
_PRIORITY = {"+": 1, "-": 1, "*": 2, "/": 2}
# A number, then optionally groups of three digits after a space (1 000), then decimals.
_NUMBER = re.compile(r"\d+(?:[ \u00a0\u2009\u202f]\d{3}(?!\d))*(?:[,.]\d+)?")
_SPACE = re.compile(r"[ \u00a0\u2007\u2009\u202f\t]+")


@dataclass(frozen=True, slots=True)
class Number:
    """A number typed in the calculation."""

    value: Fraction


@dataclass(frozen=True, slots=True)
class Operation:
    """Two calculations joined by one of the four signs (``+ - * /``)."""

    sign: str
    left: Number | Operation
    right: Number | Operation


Node = Number | Operation


@dataclass(frozen=True, slots=True)
class Calculation:
    """A calculation read from a pupil's text.

    ``value`` is ``None`` when a division by zero happens. ``stated`` is the
    result the pupil wrote after ``=``, if any.
    """

    tree: Node
    stated: Fraction | None = None

    @property
    def value(self) -> Fraction | None:
        """The exact value, or ``None`` when the calculation divides by zero."""
        return evaluate(self.tree)

    @property
    def numbers(self) -> tuple[Fraction, ...]:
        """The numbers used, sorted, with repeats."""
        return tuple(sorted(_numbers(self.tree)))

    @property
    def signs(self) -> tuple[str, ...]:
        """The operation signs used (``+ - * /``), in reading order."""
        return tuple(_signs(self.tree))

    @property
    def whole_divisions(self) -> bool:
        """Whether every division gives a whole number (and none divides by zero)."""
        return _whole_divisions(self.tree)

    def french(self) -> str:
        """The calculation written back with French signs and numbers."""
        return write_calculation(self.tree)


def read_calculation(text: str, max_length: int = MAX_LENGTH) -> Calculation | None:
    """Read a typed calculation; ``None`` when it is unreadable or longer than ``max_length``."""
    if not isinstance(text, str) or len(text) > max_length:
        return None
    tokens = _tokenize(text)
    if not tokens:
        return None
    parser = _Parser(tokens)
    try:
        tree = parser.expression()
        stated = parser.stated_result()
        parser.finish()
    except _Unreadable:
        return None
    return Calculation(tree, stated)


def evaluate(node: Node) -> Fraction | None:
    """The exact value of a calculation tree, or ``None`` on a division by zero."""
    if isinstance(node, Number):
        return node.value
    left, right = evaluate(node.left), evaluate(node.right)
    if left is None or right is None:
        return None
    if node.sign == "+":
        return left + right
    if node.sign == "-":
        return left - right
    if node.sign == "*":
        return left * right
    if right == 0:
        return None
    return left / right


def write_calculation(node: Node) -> str:
    """Write a calculation tree the French way, with only the parentheses it needs."""
    if isinstance(node, Number):
        return write_number(node.value)
    priority = _PRIORITY[node.sign]
    left = write_calculation(node.left)
    if _priority(node.left) < priority:
        left = f"({left})"
    right = write_calculation(node.right)
    # The right side of − and ÷ keeps its parentheses even at equal priority: 8 − (3 − 1).
    right_needs = priority if node.sign in "-/" else priority - 1
    if _priority(node.right) <= right_needs:
        right = f"({right})"
    return f"{left} {_FRENCH_SIGNS[node.sign]} {right}"


def _priority(node: Node) -> int:
    return 3 if isinstance(node, Number) else _PRIORITY[node.sign]


def _numbers(node: Node) -> list[Fraction]:
    if isinstance(node, Number):
        return [node.value]
    return _numbers(node.left) + _numbers(node.right)


def _signs(node: Node) -> list[str]:
    if isinstance(node, Number):
        return []
    return [*_signs(node.left), node.sign, *_signs(node.right)]


def _whole_divisions(node: Node) -> bool:
    if isinstance(node, Number):
        return True
    if not (_whole_divisions(node.left) and _whole_divisions(node.right)):
        return False
    if node.sign != "/":
        return True
    value = evaluate(node)
    return value is not None and value.denominator == 1


class _Unreadable(Exception):
    """The text is not a calculation; caught inside this module only."""


def _tokenize(text: str) -> list[str | Fraction] | None:
    """Signs as one-character strings and numbers as fractions; ``None`` on a stray character."""
    tokens: list[str | Fraction] = []
    position = 0
    while position < len(text):
        space = _SPACE.match(text, position)
        if space:
            position = space.end()
            continue
        number = _NUMBER.match(text, position)
        if number:
            digits = _SPACE.sub("", number.group()).replace(",", ".")
            tokens.append(Fraction(digits))
            position = number.end()
            continue
        sign = _SIGNS.get(text[position])
        if sign is None:
            return None
        tokens.append(sign)
        position += 1
    return tokens


class _Parser:
    """Recursive descent over the tokens; each method reads one rule of the grammar."""

    def __init__(self, tokens: list[str | Fraction]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> str | Fraction | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str | Fraction:
        token = self._peek()
        if token is None:
            raise _Unreadable
        self.position += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while self._peek() in ("+", "-"):
            sign = self._take()
            node = Operation(str(sign), node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self._peek() in ("*", "/"):
            sign = self._take()
            node = Operation(str(sign), node, self.factor())
        return node

    def factor(self) -> Node:
        token = self._take()
        if isinstance(token, Fraction):
            return Number(token)
        if token != "(":
            raise _Unreadable
        node = self.expression()
        if self._take() != ")":
            raise _Unreadable
        return node

    def stated_result(self) -> Fraction | None:
        if self._peek() != "=":
            return None
        self._take()
        token = self._take()
        if not isinstance(token, Fraction):
            raise _Unreadable
        return token

    def finish(self) -> None:
        if self._peek() is not None:
            raise _Unreadable
