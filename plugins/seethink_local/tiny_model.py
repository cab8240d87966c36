"""The built-in tiny VLM: a small Qwen2.5-VL built offline (config, domain BPE tokenizer, image processor).

Nothing here touches the hub. The saved folder is a normal Hugging Face folder; it reloads with
``AutoModelForImageTextToText`` and ``AutoProcessor`` once ``seethink_local.tiny_model`` (or
``seethink_local.processing``) has been imported, because its processor is the image-only
``SeethinkVLProcessor`` registered there (the stock Qwen2.5-VL processor wants a video processor,
which needs torchvision).
"""

from __future__ import annotations

import json
from pathlib import Path

from seethink_local.options import DEFAULT_VOCAB, IMAGE_SIZE, Tiny10MOptions, TinyVLMOptions
from seethink_local.processing import CHAT_TEMPLATE, SPECIAL_TOKENS, SeethinkVLProcessor
from seethink_local.tokenizer import build_tokenizer

__all__ = ["build_processor", "build_tiny_vlm", "build_tiny_vlm_10m", "build_tokenizer", "tiny_config"]


def build_processor(image_size: int = IMAGE_SIZE, vocab_size: int = DEFAULT_VOCAB) -> SeethinkVLProcessor:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    pixels = image_size * image_size
    image_processor = Qwen2VLImageProcessorPil(size={"shortest_edge": pixels, "longest_edge": pixels})
    return SeethinkVLProcessor(image_processor=image_processor, tokenizer=build_tokenizer(vocab_size),
                               chat_template=CHAT_TEMPLATE)


def tiny_config(options: TinyVLMOptions, tokenizer):
    from transformers import Qwen2_5_VLConfig

    head_dim = options.hidden_size // options.heads
    # mrope splits head_dim/2 rotary frequencies over (time, height, width); Qwen uses 1:1.5:1.5.
    half = head_dim // 2
    t = max(1, half // 4)
    h = (half - t) // 2
    section = [t, h, half - t - h]
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(
        vocab_size=len(tokenizer), hidden_size=options.hidden_size, intermediate_size=options.intermediate_size,
        num_hidden_layers=options.layers, num_attention_heads=options.heads,
        num_key_value_heads=options.heads, max_position_embeddings=4096, rms_norm_eps=1e-6,
        tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                   "mrope_section": section},
        bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )
    vision = dict(
        depth=options.vision_layers, hidden_size=options.vision_hidden_size,
        intermediate_size=options.vision_hidden_size * 2, num_heads=options.vision_heads,
        out_hidden_size=options.hidden_size, patch_size=14, spatial_merge_size=2, temporal_patch_size=2,
        window_size=options.image_size, fullatt_block_indexes=[options.vision_layers - 1],
    )
    cfg = Qwen2_5_VLConfig(
        text_config=text, vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    cfg.eos_token_id = ids["<|im_end|>"]
    cfg.pad_token_id = ids["<|endoftext|>"]
    return cfg


def build_tiny_vlm(options: TinyVLMOptions | None, dest_dir: Path) -> Path:
    """Write a randomly initialised tiny Qwen2.5-VL (seeded) with its processor into ``dest_dir``."""
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    options = options or TinyVLMOptions()
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    processor = build_processor(options.image_size, options.vocab_size)
    config = tiny_config(options, processor.tokenizer)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(options.seed)
        model = Qwen2_5_VLForConditionalGeneration(config)
    finally:
        torch.random.set_rng_state(state)
    model.generation_config = GenerationConfig(
        eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id, do_sample=False)
    model.save_pretrained(dest)
    processor.save_pretrained(dest)
    (dest / "seethink_model.json").write_text(json.dumps({"builder": "tiny-vlm", **options.__dict__}, indent=2))
    return dest


def build_tiny_vlm_10m(options: Tiny10MOptions | None, dest_dir: Path) -> Path:
    return build_tiny_vlm(options or Tiny10MOptions(), dest_dir)
