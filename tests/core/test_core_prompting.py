"""The prompt template language: fields, filters, escapes, system prompts, and the official prompt exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seethink_core.samples.prompting import (
    chat_messages,
    render_prompt,
    render_system,
    template_problems,
    uses_question,
)
from seethink_core.types.sample import Sample

# The reference's training prompt (EasyR1 training/format_prompts/math.jinja) and what Jinja renders for
# a question with surrounding whitespace: ``{{ content | trim }}`` followed by the instruction.
INSTRUCTION = ("You FIRST think about the reasoning process as an internal monologue and then provide the final "
               "answer. The reasoning process MUST BE enclosed within <think> </think> tags. The final answer MUST "
               "BE put in \\boxed{}. i.e. <thinking> reasoning here </thinking> \\boxed{final answer here}")
OFFICIAL = "{question|trim} " + INSTRUCTION


def sample(prompt: str = "What is x?", choices: list[str] | None = None) -> Sample:
    return Sample(id="s", prompt=prompt, meta={"choices": choices} if choices is not None else {})


def test_the_official_prompt_renders_as_jinja_does():
    assert render_prompt(OFFICIAL, sample("  \n Find x. \t")) == "Find x. " + INSTRUCTION
    assert template_problems(OFFICIAL) == [] and uses_question(OFFICIAL)


def test_braces_that_are_not_fields_stay_text():
    for text in ("\\boxed{}", "\\boxed{final answer here}", "{ question }", "{1}", "{a b}", "x}{y"):
        assert template_problems(text) == []
        assert render_prompt(f"{{question}} {text}", sample("Q")) == f"Q {text}"


def test_doubled_braces_write_a_field_as_text():
    assert render_prompt("{question} {{question}} {{choices|trim}}", sample("Q")) == "Q {question} {choices|trim}"
    assert not uses_question("{{question}}")


def test_choices_and_filters_chain():
    s = sample(" Pick one ", ["red", "blue"])
    assert render_prompt("{question|trim|trim}\n{choices}", s) == "Pick one\nA: red\nB: blue"
    assert render_prompt("{question}|{choices}", sample("Q")) == "Q|"  # no choices: empty, as before


@pytest.mark.parametrize("template, message, hint", [
    ("{qestion}", "unknown placeholder {qestion}", "did you mean '{question}'?"),
    ("{choice}", "unknown placeholder {choice}", "did you mean '{choices}'?"),
    ("{question|trm}", "{question|trm}: unknown filter 'trm'", "did you mean 'trim'?"),
    ("{question|}", "{question|}: a filter name is missing after '|'", "filters: trim"),
    ("{question:trim}", "{question:trim}: a filter follows '|', not ':'", "write {question|trim}"),
])
def test_problems_name_the_field_and_suggest(template, message, hint):
    [problem] = template_problems("Solve: " + template)
    assert problem.start == len("Solve: ") and problem.text == template
    assert problem.message == message and problem.hint.startswith(hint)


def test_an_unknown_field_hint_says_how_to_write_braces_as_text():
    [problem] = template_problems("\\frac{a}{1}")
    assert "{{a}}" in problem.hint and "{question}" in problem.hint


def test_render_leaves_unknown_fields_as_written():
    assert render_prompt("{question} {answer} {question|nope}", sample("Q")) == "Q {answer} {question|nope}"


def test_system_prompts():
    assert render_system(None, sample()) is None and render_system("", sample()) is None
    assert render_system("Be brief about {question|trim}.", sample(" x ")) == "Be brief about x."
    assert chat_messages(None, "hi") == [{"role": "user", "content": "hi"}]
    assert chat_messages("S", [{"type": "text", "text": "hi"}]) == [
        {"role": "system", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def _before(template: str | None, s: Sample) -> str:
    """The renderer as it was before fields had filters (commit 2454745), for templates it handled."""
    text = s.prompt
    if not template:
        return text
    out = template.replace("{question}", text)
    if "{choices}" in out:
        out = out.replace("{choices}", "\n".join(f"{chr(65 + i)}: {c}" for i, c in enumerate(s.meta.get("choices")
                                                                                              or [])))
    return out


_TEXT = st.text(st.characters(blacklist_characters="{}"), max_size=12)


@given(parts=st.lists(st.one_of(_TEXT, st.sampled_from(["{question}", "{choices}", "\\boxed{}", "{ x }"])),
                      max_size=6),
       question=_TEXT, choices=st.lists(_TEXT, max_size=3))
def test_templates_without_the_new_syntax_render_as_before(parts, question, choices):
    template = "".join(parts)
    s = sample(question, choices)
    assert render_prompt(template, s) == _before(template, s)
    assert render_prompt(None, s) == _before(None, s) == question
