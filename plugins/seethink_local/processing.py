"""An image-only Qwen2.5-VL processor, registered so ``AutoProcessor`` loads saved tiny-VLM folders.

The stock ``Qwen2_5_VLProcessor`` requires a video processor, and transformers' video processors
need torchvision, which cannot be imported beside a CPU-only torch. This subclass drops the video
part. Importing this module (``import seethink_local.processing``; the backend and ``tiny_model``
import it) registers the class with ``AutoProcessor``.
"""

from __future__ import annotations

from transformers import AutoProcessor, PretrainedConfig
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor

SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
)

# Qwen2-VL's chat format, images inline where the message puts them; no default system prompt
# (the tiny model never saw one, and a shorter prompt trains faster on CPU).
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' or 'image' in c %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class SeethinkVLProcessor(Qwen2_5_VLProcessor):
    """Qwen2.5-VL processing (image tokens expanded by grid size) with no video processor."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        # Qwen2_5_VLProcessor.__init__ would pass video_processor on to ProcessorMixin, whose
        # attribute list comes from *this* signature (no video_processor), so set things up here.
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = getattr(tokenizer, "image_token_id", None) or tokenizer.convert_tokens_to_ids(
            self.image_token)
        self.video_token_id = getattr(tokenizer, "video_token_id", None) or tokenizer.convert_tokens_to_ids(
            self.video_token)
        self.video_processor = None
        super(Qwen2_5_VLProcessor, self).__init__(image_processor, tokenizer, chat_template=chat_template)


class _ProcessorKey(PretrainedConfig):
    """Only a key: ``AutoProcessor`` finds registered processors by class name through this mapping."""

    model_type = "seethink_vl_processor"


AutoProcessor.register(_ProcessorKey, SeethinkVLProcessor, exist_ok=True)
