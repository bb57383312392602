"""GPU check of the worker: `python bench/bench_gpu.py` (one GPU, about 10 minutes on an H200).

Builds the real video architectures at their real sizes with random weights — no download:
the configs are below, copied from the published repositories' ``config.json`` files
(CogVideoX-5B: zai-org/CogVideoX-5b; Wan 2.1: Wan-AI/Wan2.1-T2V-1.3B-Diffusers and -14B-) —
saves each as a diffusers folder, loads it through the worker's real loading code
(``load_video_pipeline`` with the model table's entry: sizes, frames, offload as deployed),
renders one shot through the worker's real code path (render, resample to the shot's length,
H.264), and runs a plain diffusers loop with the same settings on the same pipeline. Reports,
per model: load time, seconds per clip at the bench's steps and extrapolated to the card's
steps, peak GPU memory against the table's documented peak, and worker / reference.

Random weights draw noise, not pictures: the numbers are time and memory, which do not depend
on the weights' values. A time budget (``--budget-s``, default 540 s) skips what would not fit.

Without CUDA it refuses (exit 2) unless ``--dry-run``: tiny configs on the CPU, to exercise the
code path (the tests run that).
"""

from __future__ import annotations

import argparse
import json
import string
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT = (
    "Medium shot. A small red fox sits on a snowy hill under a huge full moon, soft film grain. "
    "Style: storybook illustration."
)
SHOT_SECONDS = 8


@dataclass
class Result:
    model: str
    device: str
    width: int
    height: int
    frames: int
    steps: int
    card_steps: int
    load_s: float
    worker_s: float
    reference_s: float
    per_step_s: float
    clip_s_at_card_steps: float
    peak_gpu_gb: float
    documented_peak_gb: float
    ratio: float
    note: str = ""


# --- the real architectures ------------------------------------------------------------------
def t5_xxl(vocab: int, *, tiny: bool, umt5: bool) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    dims: dict[str, Any] = dict(d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=24)
    if tiny:
        dims = dict(d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=2)
    common = dims | {"vocab_size": vocab, "feed_forward_proj": "gated-gelu"}
    if umt5:
        return UMT5EncoderModel(UMT5Config(**common)).eval()
    return T5EncoderModel(T5Config(**common, relative_attention_num_buckets=32)).eval()


def tokenizer(folder: Path, max_length: int) -> Any:
    """A real slow T5 tokenizer (``spiece.model``) trained on a few lines: its ids only feed
    the encoder, which pads every prompt to ``max_length`` as the real one does."""
    import io

    import sentencepiece as spm
    from transformers import T5Tokenizer

    lines = [PROMPT] * 8 + [string.ascii_letters, string.digits, string.punctuation] * 4
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=160,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(model.getvalue())
    config = {"tokenizer_class": "T5Tokenizer", "model_max_length": max_length, "extra_ids": 0}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return T5Tokenizer.from_pretrained(str(folder))


def build_cogvideox(folder: Path, *, tiny: bool) -> Any:
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )

    arch: dict[str, Any] = dict(
        num_attention_heads=48, attention_head_dim=64, num_layers=42, time_embed_dim=512
    )
    if tiny:
        arch = dict(num_attention_heads=4, attention_head_dim=16, num_layers=1, time_embed_dim=2)
    transformer = CogVideoXTransformer3DModel(
        **arch,
        in_channels=4 if tiny else 16,
        out_channels=4 if tiny else 16,
        text_embed_dim=32 if tiny else 4096,
        sample_width=4 if tiny else 90,
        sample_height=2 if tiny else 60,
        sample_frames=9 if tiny else 49,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16 if tiny else 226,
        use_rotary_positional_embeddings=True,
        norm_eps=1e-5,
        spatial_interpolation_scale=1.875,
    )
    vae = (
        AutoencoderKLCogVideoX(
            block_out_channels=(8, 8, 8, 8),
            latent_channels=4,
            layers_per_block=1,
            norm_num_groups=2,
        )
        if tiny
        else AutoencoderKLCogVideoX(scaling_factor=0.7)
    )
    tok = tokenizer(folder / ".tokenizer", 16 if tiny else 226)
    encoder = t5_xxl(32128 if not tiny else len(tok), tiny=tiny, umt5=False)
    return CogVideoXPipeline(
        tokenizer=tok,
        text_encoder=encoder,
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )


def build_wan(folder: Path, *, tiny: bool, large: bool) -> Any:
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline
    from diffusers import WanTransformer3DModel as Wan

    if tiny:
        arch: dict[str, Any] = dict(num_attention_heads=2, attention_head_dim=12, ffn_dim=32)
        arch |= dict(num_layers=2, text_dim=32, rope_max_seq_len=32)
    elif large:  # Wan2.1-T2V-14B
        arch = dict(num_attention_heads=40, attention_head_dim=128, ffn_dim=13824, num_layers=40)
        arch |= dict(text_dim=4096, rope_max_seq_len=1024)
    else:  # Wan2.1-T2V-1.3B
        arch = dict(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=30)
        arch |= dict(text_dim=4096, rope_max_seq_len=1024)
    transformer = Wan(
        patch_size=(1, 2, 2),
        in_channels=16,
        out_channels=16,
        freq_dim=256,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        **arch,
    )
    vae = (
        AutoencoderKLWan(base_dim=3, dim_mult=[1, 1, 1, 1], num_res_blocks=1)
        if tiny
        else AutoencoderKLWan()
    )
    tok = tokenizer(folder / ".tokenizer", 16 if tiny else 512)
    encoder = t5_xxl(256384 if not tiny else len(tok), tiny=tiny, umt5=True)
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0 if large else 3.0
    )
    return WanPipeline(
        tokenizer=tok, text_encoder=encoder, vae=vae, transformer=transformer, scheduler=scheduler
    )


BUILDERS = {
    "cogvideox-5b": lambda folder, tiny: build_cogvideox(folder, tiny=tiny),
    "wan2.1-t2v-1.3b": lambda folder, tiny: build_wan(folder, tiny=tiny, large=False),
    "wan2.1-t2v-14b": lambda folder, tiny: build_wan(folder, tiny=tiny, large=True),
}
#: Steps per model in the bench (the card's count is extrapolated): fits ~10 min on an H200.
BENCH_STEPS = {"cogvideox-5b": 4, "wan2.1-t2v-1.3b": 4, "wan2.1-t2v-14b": 2}


# --- one model -------------------------------------------------------------------------------
def bench_model(model_id: str, root: Path, *, device: str, steps: int, dry_run: bool) -> Result:
    import torch

    from shared.media.encode import write_h264
    from shared.providers.selfhosted.video_models import MODELS
    from worker.tale_worker.clips import fit_frames, sized
    from worker.tale_worker.pipelines import detect_kind, load_video_pipeline

    spec = MODELS[model_id]
    folder = root / model_id
    previous = torch.get_default_dtype()
    if not dry_run:
        torch.set_default_dtype(torch.bfloat16)  # the weights as the worker loads them
    try:
        with torch.device(device if not dry_run else "cpu"):
            pipe = BUILDERS[model_id](folder, dry_run)
    finally:
        torch.set_default_dtype(previous)
    pipe.save_pretrained(str(folder))
    del pipe
    if device.startswith("cuda"):
        torch.cuda.empty_cache()

    started = time.perf_counter()
    video = load_video_pipeline(
        folder,
        detect_kind(folder),
        device,
        steps=steps,
        offload=spec.offload and device.startswith("cuda"),
        spec=None if dry_run else spec,  # tiny configs render their own small size
    )
    load_s = time.perf_counter() - started
    if dry_run:  # the tiny configs render a tiny clip
        video.native_size, video.max_frames = (32, 16), 9
    ratio = "9:16" if "9:16" in video.supported_sizes() else "16:9"
    width, height = video.size_for(ratio)
    fps = video.native_fps
    count = fps * SHOT_SECONDS

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def worker_path() -> float:
        sync()
        t0 = time.perf_counter()
        frames = video.render(
            PROMPT, frames=count, width=width, height=height, fps=fps, first_frame=None, seed=1
        )
        with tempfile.TemporaryDirectory() as tmp:
            clip = (sized(f, width, height) for f in fit_frames(frames, count))
            write_h264(clip, Path(tmp) / "clip.mp4", fps=fps, width=width, height=height)
        sync()
        return time.perf_counter() - t0

    marks: list[float] = []

    def mark(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        sync()
        marks.append(time.perf_counter())
        return kwargs

    def reference() -> float:
        """The plain diffusers call with the worker's settings (step ends timed)."""
        args: dict[str, Any] = dict(
            prompt=PROMPT,
            height=height,
            width=width,
            num_frames=video.model_frames(count),
            num_inference_steps=video.steps,
            guidance_scale=video.guidance,
            generator=torch.Generator(device="cpu").manual_seed(1),
            output_type="np",
            callback_on_step_end=mark,
        )
        if video.max_sequence_length is not None:
            args["max_sequence_length"] = video.max_sequence_length
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            video.pipe(**args)
        sync()
        return time.perf_counter() - t0

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    worker_s = worker_path()
    peak = torch.cuda.max_memory_allocated() / 1e9 if device.startswith("cuda") else 0.0
    reference_s = reference()
    # Denoising steps from the step-end marks; the rest (text encoding, VAE) is fixed.
    per_step = (marks[-1] - marks[0]) / (len(marks) - 1) if len(marks) > 1 else reference_s
    fixed = max(0.0, reference_s - per_step * steps)
    video.pipe = None  # free the model before the next one
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return Result(
        model=model_id,
        device=device,
        width=width,
        height=height,
        frames=count,
        steps=steps,
        card_steps=spec.steps,
        load_s=round(load_s, 2),
        worker_s=round(worker_s, 2),
        reference_s=round(reference_s, 2),
        per_step_s=round(per_step, 3),
        clip_s_at_card_steps=round(fixed + per_step * spec.steps, 1),
        peak_gpu_gb=round(peak, 2),
        documented_peak_gb=spec.peak_gpu_gb,
        ratio=round(worker_s / reference_s, 3) if reference_s else 0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(BUILDERS), help="comma-separated ids")
    parser.add_argument("--steps", type=int, default=None, help="override the bench's steps")
    parser.add_argument("--budget-s", type=float, default=540.0)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--dry-run", action="store_true", help="tiny configs on the CPU (tests the code path)"
    )
    args = parser.parse_args(argv)
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print(
            "bench_gpu: no CUDA device — this benchmark measures the worker on a GPU. "
            "Run it on a GPU machine, or with --dry-run to exercise the code path on the CPU.",
            file=sys.stderr,
        )
        return 2
    device = "cpu" if args.dry_run else "cuda"
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in BUILDERS]
    if unknown:
        print(f"bench_gpu: unknown models {unknown}; known: {sorted(BUILDERS)}", file=sys.stderr)
        return 2
    results: list[dict[str, Any]] = []
    begun = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        for model_id in models:
            spent = time.monotonic() - begun
            if results and spent > args.budget_s * 0.6:
                results.append({"model": model_id, "note": f"skipped: {spent:.0f} s spent"})
                continue
            steps = args.steps or (2 if args.dry_run else BENCH_STEPS[model_id])
            result = bench_model(
                model_id, Path(tmp), device=device, steps=steps, dry_run=args.dry_run
            )
            results.append(asdict(result))
            print(
                f"{model_id}: load {result.load_s} s, clip {result.worker_s} s at {steps} steps "
                f"(~{result.clip_s_at_card_steps} s at {result.card_steps}), peak "
                f"{result.peak_gpu_gb} GB (documented {result.documented_peak_gb}), "
                f"worker/reference {result.ratio}",
                file=sys.stderr,
            )
            for child in Path(tmp).iterdir():  # free the disk for the next model
                if child.is_dir():
                    import shutil

                    shutil.rmtree(child, ignore_errors=True)
    summary = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)",
        "torch": torch.__version__,
        "results": results,
        "seconds": round(time.monotonic() - begun, 1),
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
