"""French writing shared by engines: operation signs, blanks, carries and digits."""

from __future__ import annotations

from fractions import Fraction

from calculatice.numbers import write_number

BLANK = "…"
SIGNS = {"+": "+", "-": "−", "*": "×", "/": "÷"}


def n(value: Fraction | int) -> str:
    """A number written the French way (short alias used in prompts)."""
    return write_number(value)


def operation(left: Fraction | int, sign: str, right: Fraction | int) -> str:
    """``7 × 8`` with French signs and numbers."""
    return f"{n(left)} {SIGNS[sign]} {n(right)}"


def equation(left, sign: str, right, result, hide: str | None = None) -> str:
    """``7 × … = 56``: an equality with one of ``left``, ``right``, ``result`` hidden."""
    parts = {"left": n(left), "right": n(right), "result": n(result)}
    if hide is not None:
        parts[hide] = BLANK
    return f"{parts['left']} {SIGNS[sign]} {parts['right']} = {parts['result']}"


def digit_count(value: Fraction | int) -> int:
    """Significant digits of a number as written (0,25 has 3: 0, 2, 5)."""
    return sum(character.isdigit() for character in n(value))


def carries(left: int, right: int) -> int:
    """How many carries a column addition of two whole numbers needs."""
    count = carry = 0
    left, right = abs(left), abs(right)
    while left or right:
        carry = 1 if left % 10 + right % 10 + carry >= 10 else 0
        count += carry
        left //= 10
        right //= 10
    return count


def borrows(left: int, right: int) -> int:
    """How many borrows a column subtraction ``left − right`` (left ≥ right) needs."""
    count = borrow = 0
    while left or right:
        column = left % 10 - right % 10 - borrow
        borrow = 1 if column < 0 else 0
        count += borrow
        left //= 10
        right //= 10
    return count
