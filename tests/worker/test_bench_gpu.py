"""bench/bench_gpu.py: it refuses to run without CUDA (exit 2, with the reason), and its
``--dry-run`` drives the same code path — real architectures' builders with tiny configs,
save, the worker's loader, the worker's render and encode, the plain diffusers reference —
on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.worker.tiny_models import require_model_libraries

pytestmark = pytest.mark.slow


def test_without_cuda_it_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    require_model_libraries()
    import torch

    from bench.bench_gpu import main

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the refusal is for machines without one")
    assert main([]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_the_dry_run_exercises_the_worker_path(tmp_path: Path) -> None:
    require_model_libraries()
    from bench.bench_gpu import main

    out = tmp_path / "bench.json"
    assert main(["--dry-run", "--models", "cogvideox-5b,wan2.1-t2v-1.3b", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["device"] == "cpu (dry run)"
    results = {r["model"]: r for r in summary["results"]}
    assert set(results) == {"cogvideox-5b", "wan2.1-t2v-1.3b"}
    for result in results.values():
        assert result["load_s"] > 0 and result["worker_s"] > 0 and result["reference_s"] > 0
        assert result["frames"] == 8 * (16 if "wan" in result["model"] else 8)  # 8 s at fps
        assert result["ratio"] > 0 and result["per_step_s"] > 0
