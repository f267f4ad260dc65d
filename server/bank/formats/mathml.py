"""MathML (presentation markup) as one line of readable text.

The client shows plain text, so a formula becomes what a person would type to write it: ``x³ −
5x + 2``, ``(a + b)/(2c)``, ``√(x² + 1)``, ``e^(−x²/2)``, ``x₁ … xₙ``. Unicode superscripts and
subscripts are used where every character has one, a caret or underscore with parentheses
otherwise, so nothing is lost or run together. Content MathML and annotations are ignored in
favour of the presentation markup beside them.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

_SUPER_FROM, _SUPER_TO = "0123456789+-−=()niT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱᵀ"
_SUB_FROM, _SUB_TO = "0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"
_SUPER, _SUPER_ABLE = str.maketrans(_SUPER_FROM, _SUPER_TO), frozenset(_SUPER_FROM)
_SUB, _SUB_ABLE = str.maketrans(_SUB_FROM, _SUB_TO), frozenset(_SUB_FROM)
# Operators written with a space either side; others (parentheses, commas) are not.
_SPACED = frozenset("=+−-×÷·<>≤≥≠≈≡→←↔⇒⇔∈∉⊂⊆∪∩±∓")
# Invisible operators: function application reads as a space, a separator as a comma.
_INVISIBLE = {"\u2061": " ", "\u2062": "", "\u2063": ",", "\u2064": "+"}
_ROOTS = {"2": "√", "3": "∛", "4": "∜"}
_SKIPPED = frozenset({"annotation", "annotation-xml", "mphantom", "none", "mprescripts"})
MAX_DEPTH = 60


def _name(element: Element) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def linear(math: Element) -> str:
    """The formula in ``math`` (a ``<math>`` element or any MathML element) as text."""
    return " ".join(_render(math, 0).split())


def _children(element: Element) -> list[Element]:
    return [child for child in element if _name(child) not in _SKIPPED]


def _atomic(text: str) -> bool:
    """Whether ``text`` reads as one unit without parentheses (a number, one letter, a bracket)."""
    stripped = text.strip()
    if len(stripped) <= 1 or stripped.replace(".", "", 1).isdigit():
        return True
    opening, closing = stripped[0], stripped[-1]
    return (opening, closing) in (("(", ")"), ("[", "]"), ("{", "}"), ("|", "|")) and not any(
        mark in stripped[1:-1] for mark in ")]}"
    )


def _group(text: str) -> str:
    stripped = text.strip()
    return stripped if _atomic(stripped) else f"({stripped})"


def _script(text: str, table: dict[int, int], able: frozenset[str], mark: str) -> str:
    stripped = text.strip()
    if stripped and all(char in able for char in stripped):
        return stripped.translate(table)
    return f"{mark}{_group(stripped)}"


def _render(element: Element, depth: int) -> str:
    if depth > MAX_DEPTH:
        return "…"
    name = _name(element)
    children = _children(element)
    parts = [_render(child, depth + 1) for child in children]
    if children and _name(children[0]) == "mo":  # a sign before what follows: -x, not - x
        parts[0] = parts[0].strip()
    text = (element.text or "").strip()
    if name in ("mi", "mn", "mtext", "ms"):
        return text if name != "ms" else f'"{text}"'
    if name == "mo":
        text = _INVISIBLE.get(text, text)
        return f" {text} " if text in _SPACED else text
    if name == "mspace":
        return " "
    if name == "semantics":
        return parts[0] if parts else ""
    if name == "mfrac" and len(parts) == 2:
        return f"{_group(parts[0])}/{_group(parts[1])}"
    if name == "msqrt":
        return f"√{_group(''.join(parts))}"
    if name == "mroot" and len(parts) == 2:
        index = parts[1].strip()
        sign = _ROOTS.get(index)
        return f"{sign}{_group(parts[0])}" if sign else f"root {index} of {_group(parts[0])}"
    if name in ("msup", "mover") and len(parts) == 2:
        if name == "mover" and parts[1].strip() in ("¯", "‾", "_", "^", "~", "˙", "→"):
            return f"{_group(parts[0])}{parts[1].strip()}"
        return parts[0] + _script(parts[1], _SUPER, _SUPER_ABLE, "^")
    if name in ("msub", "munder") and len(parts) == 2:
        return parts[0] + _script(parts[1], _SUB, _SUB_ABLE, "_")
    if name in ("msubsup", "munderover") and len(parts) == 3:
        return (
            parts[0]
            + _script(parts[1], _SUB, _SUB_ABLE, "_")
            + _script(parts[2], _SUPER, _SUPER_ABLE, "^")
        )
    if name == "mfenced":
        opening = element.get("open", "(")
        closing = element.get("close", ")")
        separator = element.get("separators", ",").strip()[:1] or ","
        return f"{opening}{(separator + ' ').join(p.strip() for p in parts)}{closing}"
    if name == "mtable":
        return "[" + "; ".join(p.strip() for p in parts) + "]"
    if name in ("mtr", "mlabeledtr"):
        return ", ".join(p.strip() for p in parts)
    if name == "menclose":
        return _group("".join(parts))
    return text + "".join(parts)  # math, mrow, mstyle, mpadded, merror, mtd, unknown
