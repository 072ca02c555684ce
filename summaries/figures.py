"""How figures are written, the one rule for pages and workbooks: thousands separators, whole numbers without
decimals, other amounts with two; changes as signed percentages with one decimal."""
from decimal import Decimal

PLACES = 2
NO_FIGURE = "—"


def is_whole(value) -> bool:
    """Whether a number has no fractional part (then it is written without “.00”)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return float(value).is_integer()


def format_figure(value, places: int = PLACES) -> str:
    """12345 → “12,345”; Decimal("2200.00") → “2,200”; 1099.5 → “1,099.50”; None → “—”."""
    if value is None or value == "":
        return NO_FIGURE
    if is_whole(value):
        return f"{int(value):,}"
    return f"{Decimal(str(value)):,.{places}f}"


def format_change(ratio) -> str:
    """A year-on-year change given as a fraction: 0.125 → “+12.5%”, −0.6 → “−60.0%”; None → “—”."""
    if ratio is None:
        return NO_FIGURE
    percent = round(float(ratio) * 100, 1)
    if percent == 0:
        return "0.0%"
    return f"{'+' if percent > 0 else '−'}{abs(percent):,.1f}%"
