"""A second answer-equivalence suite, written apart from the grader and from its own suite
(``equivalence_cases.jsonl``) by someone who had not read the grader's rules: a check that the
default grader was not tuned to the cases it was developed against. Labels are a mathematician's;
the grader may miss a few true equivalences (listed), but must stay above 90% agreement with no
more than 2.5% false positives, the targets of docs/speed.md.
"""

from __future__ import annotations

from seethink_rewards.accuracy import Accuracy
from seethink_rewards.schemas import AccuracyOptions

# (gold, given, equivalent, kind)
CASES = [
    ('12', 'x=12', True, 'label'),
    ('12', 'x = 12', True, 'label'),
    ('-3', 'a=-3', True, 'label'),
    ('(4,1)', '(a,b)=(4,1)', True, 'label'),
    ('(4,1)', '(a,b)=(1,4)', False, 'label'),
    ('7', 'g(2)=7', True, 'label'),
    ('7', 'g(2)=8', False, 'label'),
    ('5', 'x=6', False, 'label'),
    ('x=5', '5', True, 'label'),
    ('k=2', 'k = 2', True, 'label'),
    ('\\frac{3}{4}', 'p=\\frac{3}{4}', True, 'label'),
    ('y=3x-2', 'y=3x+2', False, 'equation'),
    ('y=3x-2', '3x-2=y', True, 'equation'),
    ('y=3x-2', 'y=-2+3x', True, 'equation'),
    ('9', '$9$', True, 'wrap'),
    ('\\frac{1}{2}', '$\\frac12$', True, 'wrap'),
    ('15', '\\text{15}', True, 'wrap'),
    ('15', '15\\text{ cm}', True, 'units'),
    ('3', '\\mathbf{3}', True, 'wrap'),
    ('6', '\\left(6\\right)', True, 'wrap'),
    ('\\dfrac{5}{6}', '\\frac{5}{6}', True, 'wrap'),
    ('\\tfrac{2}{9}', '2/9', True, 'wrap'),
    ('45^\\circ', '45', True, 'degrees'),
    ('45', '45^{\\circ}', True, 'degrees'),
    ('45^\\circ', '135^\\circ', False, 'degrees'),
    ('x \\leq 5', '5 \\geq x', True, 'relation'),
    ('x < 3', '3 > x', True, 'relation'),
    ('x \\le 5', 'x < 5', False, 'relation'),
    ('x > -1', '-1 < x', True, 'relation'),
    ('x \\ge 2', 'x \\le 2', False, 'relation'),
    ('x \\neq 0', 'x \\ne 0', True, 'relation'),
    ('2x + 3 = 7', '2x = 4', True, 'relation'),
    ('a+b=10', 'b+a=10', True, 'equation'),
    ('[-2,7]', '-2 \\le x \\le 7', True, 'interval'),
    ('[-2,7]', '-2 < x \\le 7', False, 'interval'),
    ('(3,\\infty)', 'x>3', True, 'interval'),
    ('(3,\\infty)', 'x\\ge 3', False, 'interval'),
    ('(-\\infty, 4]', 'x \\leq 4', True, 'interval'),
    ('(0,1)', '[0,1]', False, 'interval'),
    ('(-\\infty,1)\\cup(2,\\infty)', '(2,\\infty)\\cup(-\\infty,1)', True, 'interval'),
    ('(-\\infty,1)\\cup(2,\\infty)', '(-\\infty,1]\\cup(2,\\infty)', False, 'interval'),
    ('[1,5)', '[1, 5)', True, 'interval'),
    ('\\{1,2,3\\}', '\\{3,2,1\\}', True, 'set'),
    ('\\{1,2\\}', '1, 2', True, 'set'),
    ('1,2', '2,1', True, 'set'),
    ('(1,2)', '(2,1)', False, 'tuple'),
    ('(1,2)', '(1, 2)', True, 'tuple'),
    ('\\pm 4', '4, -4', True, 'pm'),
    ('\\pm 4', '-4,4', True, 'pm'),
    ('\\pm 4', '4', False, 'pm'),
    ('2, 3', '2 and 3', True, 'set'),
    ('\\{1,2,3\\}', '\\{1,2\\}', False, 'set'),
    ('(0,0,1)', '(0, 0, 1)', True, 'tuple'),
    ('(0,0,1)', '(0,1,0)', False, 'tuple'),
    ('3 \\pm \\sqrt{2}', '3+\\sqrt{2}, 3-\\sqrt{2}', True, 'pm'),
    ('28', '28\\%', True, 'percent'),
    ('28\\%', '28 percent', True, 'percent'),
    ('28\\%', '28%', True, 'percent'),
    ('28\\%', '29\\%', False, 'percent'),
    ('50\\%', '50', True, 'percent'),
    ('1000', '1,000', True, 'separator'),
    ('1000000', '1{,}000{,}000', True, 'separator'),
    ('2500', '2\\,500', True, 'separator'),
    ('1000', '1,001', False, 'separator'),
    ('\\sqrt{2}', '1.41', True, 'approx'),
    ('\\sqrt{2}', '1.414', True, 'approx'),
    ('\\sqrt{2}', '1.42', False, 'approx'),
    ('\\pi', '3.14', True, 'approx'),
    ('\\pi', '3.15', False, 'approx'),
    ('\\frac{1}{3}', '0.333', True, 'approx'),
    ('\\frac{1}{3}', '0.34', False, 'approx'),
    ('3.14', '\\pi', True, 'approx'),
    ('2.718', 'e', True, 'approx'),
    ('0.5', '\\frac{1}{2}', True, 'approx'),
    ('1.5', '\\frac{3}{2}', True, 'exact'),
    ('1.5', '\\frac{5}{3}', False, 'exact'),
    ('x^2+2x+1', '(x+1)^2', True, 'algebra'),
    ('x^2+2x+1', '(x+2)^2', False, 'algebra'),
    ('x^2-1', '(x-1)(x+1)', True, 'algebra'),
    ('\\frac{\\sqrt{8}}{2}', '\\sqrt{2}', True, 'algebra'),
    ('2\\sqrt{2}', '\\sqrt{8}', True, 'algebra'),
    ('\\frac{1}{\\sqrt{2}}', '\\frac{\\sqrt{2}}{2}', True, 'algebra'),
    ('\\frac{1}{\\sqrt{3}}', '\\frac{\\sqrt{2}}{2}', False, 'algebra'),
    ('2(x+3)', '2x+6', True, 'algebra'),
    ('2(x+3)', '2x+3', False, 'algebra'),
    ('\\frac{x}{2}', '0.5x', True, 'algebra'),
    ('a^2b', 'ba^2', True, 'algebra'),
    ('\\sqrt[3]{27}', '3', True, 'algebra'),
    ('2^{10}', '1024', True, 'algebra'),
    ('\\log_2 8', '3', True, 'algebra'),
    ('\\sin^2 x + \\cos^2 x', '1', True, 'algebra'),
    ('\\frac{\\pi}{3}', '60^\\circ', False, 'angle-units'),
    ('42', '42', True, 'plain'),
    ('42', '24', False, 'plain'),
    ('-7', '-7', True, 'plain'),
    ('-7', '7', False, 'plain'),
    ('0.25', '\\frac14', True, 'plain'),
    ('3/4', '0.75', True, 'plain'),
    ('10', '10.0', True, 'plain'),
    ('10', '10.5', False, 'plain'),
    ('\\frac{7}{2}', '3\\frac{1}{2}', True, 'mixed-number'),
    ('1e3', '1000', True, 'plain'),
    ('2', 'two', True, 'words'),
    ('B', 'B', True, 'letter'),
    ('B', '(B)', True, 'letter'),
    ('B', 'C', False, 'letter'),
    ('\\infty', '\\infty', True, 'plain'),
    ('\\infty', '-\\infty', False, 'plain'),
    ('5', '', False, 'empty'),
    ('5', '5 or 6', False, 'hedge'),
    ('5', '5, 6', False, 'hedge'),
    ('x', 'y', False, 'plain'),
    ('\\frac{a}{b}', 'a/b', True, 'algebra'),
    ('\\frac{a}{b}', 'b/a', False, 'algebra'),
    ('i', '\\sqrt{-1}', True, 'complex'),
    ('3+4i', '4i+3', True, 'complex'),
    ('3+4i', '3-4i', False, 'complex'),
]

# True equivalences the default grader does not find (documented in docs/grading.md): a labelled
# value whose label has an argument other than a variable, LaTeX's {,} as a thousands separator
# in a seven-digit number, an identity against a constant, a number written as a word.
KNOWN_MISSES = {("7", "g(2)=7"), ("1000000", "1{,}000{,}000"), ("\\sin^2 x + \\cos^2 x", "1"), ("2", "two")}


def _verdicts() -> list[tuple[str, str, bool, bool]]:
    reward = Accuracy(AccuracyOptions())
    return [(gold, given, want, reward.score(f"<think>...</think> \\boxed{{{given}}}", gold) == 1.0)
            for gold, given, want, _ in CASES]


def test_the_held_out_suite_is_graded_well() -> None:
    verdicts = _verdicts()
    negatives = [v for v in verdicts if not v[2]]
    false_pos = [(g, a) for g, a, want, got in verdicts if got and not want]
    wrong = [(g, a, want) for g, a, want, got in verdicts if got != want]
    assert len(CASES) >= 100 and len(negatives) >= 30
    assert 1 - len(wrong) / len(verdicts) >= 0.90, wrong
    assert len(false_pos) / len(negatives) <= 0.025, false_pos


def test_the_misses_are_the_known_ones() -> None:
    """A miss that is not listed is a regression; a listed one that now passes should leave the list."""
    misses = {(g, a) for g, a, want, got in _verdicts() if want and not got}
    assert misses == KNOWN_MISSES
