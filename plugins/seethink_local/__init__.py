"""seethink first-party plugin: local — the embedded PyTorch + transformers backend and the tiny VLMs.

Importing the package stays light (the plugin entry point must not import torch). To reload a saved
tiny-VLM folder with ``AutoProcessor`` outside seethink, ``import seethink_local.processing`` first:
it registers the image-only processor the folder names.
"""
