"""The built-in tiny VLMs' tokenizer: byte-level BPE trained offline on the registered data sources' text.

A real VLM's tokenizer has whole words ("red", " circle", " boxed") and digits as tokens; a tokenizer
of bare bytes makes a tiny model spend its capacity and its RL exploration on spelling ("rred",
"\\boxd{"). So the tiny models get a small BPE vocabulary learnt from text the project generates:
the synthetic world's questions, facts, worked solutions and answers, the reference instruction
and the answer format. Any other text still encodes (byte-level: every byte is a token), only in
more pieces. Digits are split one by one, as Qwen's tokenizer does. ``<think>`` and ``</think>``
are single added tokens, as in Qwen3's vocabulary. ``vocab_size=0`` gives the bytes-only
tokenizer (256 byte tokens plus the special ones).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator

from seethink_local.options import DEFAULT_VOCAB
from seethink_local.processing import CHAT_TEMPLATE, SPECIAL_TOKENS

THINK_TOKENS = ("<think>", "</think>")
# Corpus text, not a prompt: the reference instruction as the tiny models' vocabulary was learnt from it.
# Prompts come from .curr files; this stays fixed when they change, because every built tiny model (and
# so the demo's results) depends on the exact vocabulary.
INSTRUCTION_CORPUS = (
    "You FIRST think about the reasoning process as an internal monologue and then provide the final "
    "answer. The reasoning process MUST BE enclosed within <think> </think> tags. The final answer MUST "
    "BE put in \\boxed{}."
)


def tokenizer_corpus() -> Iterator[str]:
    """Deterministic training text: the answer format, then the vocabulary of every registered data
    source that offers one (``DataSourceSpec.vocabulary``; the synthetic world's today), by name."""
    return _texts(_vocabularies())


def corpus_digest() -> str:
    """A hash of the corpus: part of a built tiny model's cache key, so a change to a family's templates
    builds a fresh model instead of reusing one whose vocabulary differs. Generating the corpus takes
    ~0.3 s and a run resolves its model path several times, so the digest is kept per set of sources."""
    return _digest(_vocabularies())


def _vocabularies() -> tuple[tuple[str, Callable[[], Iterable[str]]], ...]:
    from seethink_core.hooks.manager import get_plugins
    from seethink_core.hooks.registry import load_factory

    registry = get_plugins().registry
    specs = [(name, registry.find("data_source", name)) for name in sorted(registry.names("data_source"))]
    return tuple((name, load_factory(spec.vocabulary, f"data source '{name}' vocabulary"))
                 for name, spec in specs if spec.vocabulary is not None)


def _texts(vocabularies: tuple[tuple[str, Callable[[], Iterable[str]]], ...]) -> Iterator[str]:
    yield INSTRUCTION_CORPUS
    yield "<think> </think> \\boxed{} system user assistant"
    for _, vocabulary in vocabularies:
        yield from vocabulary()


@functools.lru_cache(maxsize=8)  # keyed by the vocabulary functions themselves, not their names
def _digest(vocabularies: tuple[tuple[str, Callable[[], Iterable[str]]], ...]) -> str:
    digest = hashlib.sha256()
    for text in _texts(vocabularies):
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def build_tokenizer(vocab_size: int = DEFAULT_VOCAB):
    """A byte-level BPE tokenizer (``vocab_size`` tokens incl. the 256 bytes; 0 = bytes only) plus Qwen's
    special tokens and the think tags, as a ``PreTrainedTokenizerFast`` with the tiny models' chat template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    byte_chars = sorted(pre_tokenizers.ByteLevel.alphabet())
    if vocab_size == 0:
        tok = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(byte_chars)}, merges=[]))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    else:
        tok = Tokenizer(models.BPE())
        # Digits alone (numbers are read digit by digit, as Qwen does), then GPT-2-style words.
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=byte_chars, show_progress=False,
                                      special_tokens=[])
        tok.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    if vocab_size:
        tok.add_tokens(list(THINK_TOKENS))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in ("<|im_end|>", "<|endoftext|>")],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast
