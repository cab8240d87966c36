"""The tiny models' tokenizer: a byte-level BPE learnt offline from the synthetic world's text."""

from __future__ import annotations

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from seethink_local.tokenizer import THINK_TOKENS, build_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


def pieces(tok, text: str) -> list[str]:
    return [tok.decode([i]) for i in tok(text, add_special_tokens=False)["input_ids"]]


def test_the_answer_format_and_the_world_s_words_are_single_tokens(tok):
    assert pieces(tok, "<think>9-3=6</think> \\boxed{6}") == [
        "<think>", "9", "-", "3", "=", "6", "</think>", " \\", "boxed", "{", "6", "}"]
    assert pieces(tok, "What colour is the circle?") == ["What", " colour", " is", " the", " circle", "?"]
    assert pieces(tok, "<think>red</think>")[1] == "red"


def test_numbers_are_split_into_digits_as_qwen_does(tok):
    assert pieces(tok, "a 123 b")[1:5] == [" ", "1", "2", "3"]


@pytest.mark.parametrize("text", ["", "plain words", "Ünïcödé ✓ 日本語 \t\n tabs", "\\frac{1}{2} + x^2", "<think>"])
def test_any_text_round_trips(tok, text):
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_training_is_deterministic_and_small(tok):
    again = build_tokenizer()
    assert again.get_vocab() == tok.get_vocab()
    assert 300 < len(tok) <= 1024 + 16
    assert all(tok.convert_tokens_to_ids(t) != tok.unk_token_id for t in THINK_TOKENS)


def test_vocab_size_zero_is_the_bytes_only_tokenizer():
    raw = build_tokenizer(0)
    assert len(raw) == 256 + 8  # 256 byte tokens and Qwen's 8 special tokens
    assert len(raw("<think>red</think>", add_special_tokens=False)["input_ids"]) == len("<think>red</think>")
