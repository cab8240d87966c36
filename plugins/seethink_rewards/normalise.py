"""Presentation stripped from an answer before it is parsed: ``$``, ``\\text{}``, spacing commands,
``\\left``/``\\right``, ``\\dfrac``, degrees, a trailing period, thousands separators; a percent sign and
a unit are split off (``Surface``) because whether they matter depends on the other answer.

Decisions (documented in the reward's docs): ``1,000`` is a thousands separator only when the whole
answer is one number grouped in threes; ``3,5`` is a list (never a decimal comma); ``3{,}5`` is 3.5
(LaTeX's decimal comma) unless three digits follow, which is ``3{,}500`` = 3500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Surface:
    text: str  # what is left to parse
    percent: bool  # it ended in %, \%, "percent"
    unit: str | None  # a trailing unit, lower-cased, spaces and a final plural "s" removed


_REMOVE = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?=[^A-Za-z])|\\(?:display|text)style|\\(?:[,:;! ]|quad|qquad)"
                     r"|~|\\\$|\$|\\(?:\(|\))")
_REPLACE = [
    (re.compile(r"\\[dtc]frac"), r"\\frac"), (re.compile(r"\\[dt]binom"), r"\\binom"),
    (re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|(?<=\d)\s*\\circ|°|\\degree"), ""),
    (re.compile(r"^\s*(?:[A-Za-z]\s*\\in|\\approx)\s*"), ""),  # x \in [1, 2]; \approx 1.41
    (re.compile(r"\\mathbb\s*\{?\s*R\s*\}?"), r"(-\\infty,\\infty)"),
    (re.compile(r"\\frac\s*(\d)\s*(\d)"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\(?:text|mathrm|mbox)\s*\{\s*(or|and)\s*\}"), r" \\l\1 "),
    (re.compile(r"\\vee|\\wedge"), lambda m: " \\lor " if m.group(0) == "\\vee" else " \\land "),
    (re.compile(r"(\d)\{,\}(\d{3})(?!\d)"), r"\1\2"), (re.compile(r"(\d)\{,\}(\d)"), r"\1.\2"),
    (re.compile(r"\\lbrack"), "["), (re.compile(r"\\rbrack"), "]"),
]
_UNICODE = {"−": "-", "–": "-", "×": "\\times ", "·": "\\cdot ", "÷": "\\div ", "≤": "\\le ", "≥": "\\ge ",
            "≠": "\\ne ", "π": "\\pi ", "√": "\\sqrt ", "∪": "\\cup ", "∞": "\\infty "}
_WRAPPER = re.compile(r"^\\(?:text|textbf|textrm|textnormal|mathrm|mathbf|mbox|boxed)\s*\{(.*)\}$", re.DOTALL)
_BOLD = re.compile(r"^\*\*(.*)\*\*$", re.DOTALL)
_PERCENT = re.compile(r"\s*(?:\\%|%|\\text\s*\{\s*percent\s*\}|\bpercent)\s*$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACED_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?$")
_UNIT_WORDS = ("cm mm km m in inch inches ft feet foot yd yard yards mi mile miles meter meters metre metres "
               "centimeter centimeters millimeter millimeters kilometer kilometers unit units sq square cubic "
               "g kg gram grams kilogram kilograms lb lbs pound pounds oz ounce ounces s sec second seconds min "
               "minute minutes h hr hrs hour hours day days week weeks month months year years dollar dollars "
               "cent cents degree degrees rad radian radians l ml liter liters litre litres mph").split()
_UNIT_WORD = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
# A unit after a number: \text{ cm}, \mbox{ meters}, \text{ cm}^2, or (plain, after a space) a known word.
_TEXT_UNIT = re.compile(r"(?<=[\d}).])\s*\\(?:text|mbox|mathrm)\s*\{\s*([A-Za-z][A-Za-z /.]*?)\s*\}"
                        r"(\s*\^\s*\{?\s*[23]\s*\}?)?\s*$")
_PLAIN_UNIT = re.compile(rf"(?<=\d)\s+((?>(?:{_UNIT_WORD})(?:\s+|/|$))+)(\^\s*\{{?\s*[23]\s*\}}?)?\s*$",
                         re.IGNORECASE)  # atomic: a word once matched is not tried again shorter


def surface(answer: str) -> Surface:
    s = _unwrap(answer.strip())
    for char, latex in _UNICODE.items():
        if char in s:
            s = s.replace(char, latex)
    for pattern, repl in _REPLACE:
        s = pattern.sub(repl, s)
    s = _REMOVE.sub("", s)
    s = _unwrap(s).rstrip(".").strip()
    percent = False
    m = _PERCENT.search(s)
    if m:
        s, percent = s[:m.start()].strip(), True
    unit = None
    m = _TEXT_UNIT.search(s) or _PLAIN_UNIT.search(s)
    if m and s[:m.start()].strip():
        unit = re.sub(r"\s+", "", (m.group(1) + (m.group(2) or "")).lower()).removesuffix("s")
        s = s[:m.start()].strip()
    if _THOUSANDS.match(s) or _SPACED_THOUSANDS.match(s):
        s = s.replace(",", "").replace(" ", "")
    s = re.sub(r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}", r"\1", s)
    return Surface(s.strip(), percent, unit)


def _unwrap(s: str) -> str:
    while True:
        m = _WRAPPER.match(s) or _BOLD.match(s)
        if not m or not _balanced(m.group(1)):
            return s
        s = m.group(1).strip()


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0
