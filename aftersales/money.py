"""Money: CNY amounts as exact ``Decimal`` with two places (分), serialised as strings.

One helper for every service (PRODUCT.md: "Money is decimal, two places, serialised as a
string"), and ``Money``, the pydantic type of every amount in the event contracts (parsed,
then quantised: ``"1200.5"`` arrives as ``Decimal("1200.50")`` and is published as
``"1200.50"``). No framework imports, so a service's domain may use it.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator

CENT = Decimal("0.01")


def money(value) -> Decimal:
    """``value`` (str, int, Decimal, or a float through its shortest repr, so 1200.5 is
    1200.50, never 1200.4999…) as a Decimal quantised to 0.01, half up (四舍五入).
    Raises ``ValueError`` for what is not a finite amount."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise ValueError(f"not an amount: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value) -> str:
    """The amount as the string every event, view and table carries: ``"1200.50"``."""
    return str(money(value))


Money = Annotated[Decimal, AfterValidator(money)]
