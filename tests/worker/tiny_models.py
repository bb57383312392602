"""Tiny, randomly initialised diffusers video pipelines built from configs, offline.

Nothing is downloaded: the T5 encoder is a 2-layer config, the tokenizer a real
``T5Tokenizer`` over a hand-made Unigram vocabulary (letters, digits, a few words), the
CogVideoX transformer one layer and the VAE four blocks of 8 channels. Each renders 9 frames
of 16×16 in a few hundredths of a second on the CPU. ``save`` writes a weights folder exactly
as ``save_pretrained`` does for the real models, so the worker loads it through its real
loading code.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

import pytest


def require_model_libraries() -> None:
    """Skip (or, under ``CI=true``, fail) when torch / diffusers / transformers are missing."""
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        reason = (
            f"the GPU worker's model libraries are not installed ({exc}); pip install -e '.[dev]'"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _tokenizer() -> Any:
    from transformers import T5Tokenizer

    words = ("a", "the", "of", "in", "and", "shot", "prompt", "girl", "red", "coat", "fox")
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    vocab += [(c, -3.0) for c in string.ascii_letters + string.digits + string.punctuation]
    vocab += [(f"▁{w}", -1.0) for w in words]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def save(dest: Path, *, image_to_video: bool = False, seed: int = 0) -> Path:
    """Write a tiny CogVideoX (text- or image-to-video) pipeline to ``dest``; native size
    32×16 (landscape, so a 9:16 plan renders 16×32), 9 frames."""
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    tokenizer = _tokenizer()
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
        )
    )
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        # image-to-video uses rotary embeddings: 16 splits evenly over time, height, width
        attention_head_dim=16 if image_to_video else 8,
        in_channels=8 if image_to_video else 4,  # image latents ride along the noise
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=4,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=image_to_video,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    cls = CogVideoXImageToVideoPipeline if image_to_video else CogVideoXPipeline
    pipe = cls(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )
    pipe.save_pretrained(str(dest))
    return dest
