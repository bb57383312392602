"""Tiny, randomly initialised diffusers video pipelines built from configs, offline, laid out
on disk as the real repositories are.

Nothing is downloaded. The tokenizers are real SentencePiece models trained here on a few
sentences:

- CogVideoX (as zai-org/CogVideoX-5b): ``tokenizer/`` holds ``spiece.model``,
  ``tokenizer_config.json`` and ``special_tokens_map.json`` and **no** ``tokenizer.json`` —
  transformers converts the slow T5 tokenizer when it loads it, which needs ``sentencepiece``
  (and ``protobuf``): without them the real weights do not load, and neither do these.
- Wan 2.1 (as Wan-AI/Wan2.1-T2V-1.3B-Diffusers): a UMT5 encoder, ``tokenizer/`` with
  ``spiece.model`` and ``tokenizer.json`` (T5TokenizerFast), a Wan transformer and
  ``AutoencoderKLWan``, the UniPC flow scheduler the model card uses.

Each renders 9 frames of 16×16 in well under a second on the CPU; ``save`` / ``save_wan``
write the folder with ``save_pretrained``, so the worker loads it through its real loading
code.
"""

from __future__ import annotations

import io
import json
import shutil
import string
from pathlib import Path
from typing import Any

from tests.peers import missing_peer

WORDS = [
    "a",
    "the",
    "of",
    "in",
    "and",
    "with",
    "on",
    "at",
    "shot",
    "prompt",
    "girl",
    "boy",
    "red",
    "blue",
    "coat",
    "fox",
    "cat",
    "lighthouse",
    "sea",
    "night",
    "storm",
    "medium",
    "wide",
    "close",
    "up",
    "style",
    "storybook",
    "watercolor",
    "cinematic",
    "anime",
    "mina",
    "walks",
    "runs",
    "looks",
]
SPECIAL = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}


def require_model_libraries() -> None:
    """Skip (or, under ``CI=true``, fail) when the worker's model libraries are missing."""
    try:
        import diffusers  # noqa: F401
        import ftfy  # noqa: F401
        import google.protobuf  # noqa: F401
        import sentencepiece  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        reason = (
            f"the GPU worker's model libraries are not installed ({exc}); pip install -e '.[dev]'"
        )
        missing_peer(reason)


def spiece_model(vocab_size: int = 160) -> bytes:
    """A real SentencePiece unigram model with T5's special ids (pad 0, eos 1, unk 2)."""
    import sentencepiece as spm

    lines = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))]
    lines += [string.ascii_letters, string.digits, string.punctuation] * 4
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=out,
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
    )
    return out.getvalue()


def write_slow_tokenizer(folder: Path, *, max_length: int = 226) -> None:
    """The layout of CogVideoX-5b's ``tokenizer/``: a slow T5 tokenizer, no tokenizer.json."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "spiece.model").write_bytes(spiece_model())
    config = {"tokenizer_class": "T5Tokenizer", "model_max_length": max_length, "extra_ids": 0}
    (folder / "tokenizer_config.json").write_text(json.dumps(config | SPECIAL, indent=2))
    (folder / "special_tokens_map.json").write_text(json.dumps(SPECIAL, indent=2))


def slow_tokenizer(folder: Path) -> Any:
    from transformers import T5Tokenizer

    write_slow_tokenizer(folder)
    return T5Tokenizer.from_pretrained(str(folder))


def save(dest: Path, *, image_to_video: bool = False, seed: int = 0) -> Path:
    """Write a tiny CogVideoX (text- or image-to-video) pipeline to ``dest``; native size
    32×16 (landscape), 9 frames; its tokenizer folder as the real model's."""
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
    tokenizer = slow_tokenizer(dest.parent / f".{dest.name}-tokenizer")
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
    ).eval()
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
    write_slow_tokenizer(dest / "tokenizer")  # what save_pretrained wrote is the fast layout
    return dest


def save_wan(dest: Path, *, seed: int = 0) -> Path:
    """Write a tiny Wan 2.1 text-to-video pipeline to ``dest``: UMT5 encoder, Wan transformer,
    Wan VAE, UniPC flow scheduler; the tokenizer as the real one (spiece.model and
    tokenizer.json)."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import T5TokenizerFast, UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    source = dest.parent / f".{dest.name}-tokenizer"
    write_slow_tokenizer(source, max_length=512)
    tokenizer = T5TokenizerFast.from_pretrained(str(source))
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
        )
    ).eval()
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=scheduler,
    )
    pipe.save_pretrained(str(dest))
    shutil.copy(source / "spiece.model", dest / "tokenizer" / "spiece.model")
    return dest


#: Bark's presets in a tiny model: a narrator per story language (as ``v2/<lang>_speaker_<n>``).
BARK_PRESETS = ("v2/ko_speaker_0", "v2/en_speaker_6", "v2/ja_speaker_0", "v2/zh_speaker_0")


def save_bark(dest: Path, *, seed: int = 0) -> Path:
    """A tiny random Bark laid out as ``suno/bark-small``: ``config.json`` (semantic, coarse
    and fine GPTs of one layer, a small EnCodec), ``generation_config.json`` with Bark's
    generation settings, the weights, a BERT tokenizer (Bark reads text with
    ``bert-base-multilingual-cased``'s; here a vocabulary of Latin letters, Hangul, kana and
    Han characters) and ``speaker_embeddings_path.json`` with the presets' prompts under
    ``speaker_embeddings/v2/``. Real block sizes (1024): Bark's semantic prompt is 256 text +
    256 history tokens."""
    import numpy as np
    import torch
    from transformers import BarkConfig, BarkModel, BertTokenizer, EncodecConfig
    from transformers.models.bark.generation_configuration_bark import (
        BarkCoarseGenerationConfig,
        BarkFineGenerationConfig,
        BarkGenerationConfig,
        BarkSemanticGenerationConfig,
    )

    torch.manual_seed(seed)
    dest.mkdir(parents=True, exist_ok=True)
    gpt = {"block_size": 1024, "num_layers": 1, "num_heads": 2, "hidden_size": 16}
    codec = EncodecConfig(
        target_bandwidths=[6.0],
        num_filters=4,
        hidden_size=8,
        codebook_size=1024,
        codebook_dim=8,
        upsampling_ratios=[8, 5, 4, 2],
        num_residual_layers=1,
        num_lstm_layers=1,
    )
    config = BarkConfig(
        semantic_config={**gpt, "input_vocab_size": 129_600, "output_vocab_size": 10_048},
        coarse_acoustics_config={**gpt, "input_vocab_size": 12_096, "output_vocab_size": 12_096},
        fine_acoustics_config={
            **gpt,
            "input_vocab_size": 1_056,
            "output_vocab_size": 1_056,
            "n_codes_total": 8,
            "n_codes_given": 1,
        },
        codec_config=codec.to_dict(),
    )
    BarkModel(config).eval().save_pretrained(dest)
    generation = BarkGenerationConfig(
        semantic_config=BarkSemanticGenerationConfig().to_dict(),
        coarse_acoustics_config=BarkCoarseGenerationConfig().to_dict(),
        fine_acoustics_config=BarkFineGenerationConfig().to_dict(),
        sample_rate=24_000,
        codebook_size=1_024,
    )
    (dest / "generation_config.json").write_text(json.dumps(generation.to_dict(), default=str))

    letters = list(string.ascii_letters + string.digits + string.punctuation)
    scripts = list("달이뜬밤토끼가왔다서연민호") + list("つきがでたうさぎ") + list("月亮出来了兔子")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *scripts]
    (dest / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(str(dest / "vocab.txt"), do_lower_case=False).save_pretrained(dest)

    rng = np.random.default_rng(seed)
    embeddings: dict[str, Any] = {"repo_or_path": "suno/bark-small"}
    (dest / "speaker_embeddings" / "v2").mkdir(parents=True, exist_ok=True)
    for preset in BARK_PRESETS:
        prompts = {
            "semantic_prompt": rng.integers(0, 10_000, (24,)),
            "coarse_prompt": rng.integers(0, 1_024, (2, 36)),
            "fine_prompt": rng.integers(0, 1_024, (8, 36)),
        }
        embeddings[preset] = {}
        for key, array in prompts.items():
            relative = f"speaker_embeddings/{preset}_{key}.npy"
            np.save(dest / relative, array, allow_pickle=False)
            embeddings[preset][key] = relative
    (dest / "speaker_embeddings_path.json").write_text(json.dumps(embeddings, indent=2))
    return dest
