"""Where the model weights are: a local folder, or a ``gs://`` prefix copied to local disk.

On Cloud Run the cheapest way is a Cloud Storage *volume mount* (``TALE_GPU_WEIGHTS`` is then a
plain path such as ``/weights/CogVideoX-5b``): nothing is copied, pages are read on demand.
A ``gs://bucket/prefix`` is copied once per task under the cache folder (the task's local
disk), in parallel, each object written atomically; a marker file records a complete copy, so
a retried task on the same instance does not copy again. There is no network at run time
beyond Cloud Storage: nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger(__name__)

COMPLETE = ".tale-complete"
PARALLEL_DOWNLOADS = 8


def local_weights(source: str, cache: Path, *, client: Any = None) -> Path:
    """A local folder holding the weights named by ``source`` (a path or ``gs://`` URI).

    ``client``: a ``google.cloud.storage.Client`` (default: one from the environment's
    credentials). Raises ``FileNotFoundError`` when there is nothing there.
    """
    if not source.startswith("gs://"):
        path = Path(source).expanduser()
        if not (path / "model_index.json").is_file():
            raise FileNotFoundError(f"no model_index.json in {path} (TALE_GPU_WEIGHTS)")
        return path
    bucket, _, prefix = source.removeprefix("gs://").partition("/")
    prefix = prefix.strip("/")
    if not bucket:
        raise ValueError(f"not a gs://bucket/prefix URI: {source}")
    dest = cache / bucket / prefix if prefix else cache / bucket
    if (dest / COMPLETE).is_file():
        log.info("weights from %s: reusing the copy in %s", source, dest)
        return dest
    if client is None:
        from google.cloud import storage

        client = storage.Client()
    start = time.monotonic()
    listed = client.list_blobs(bucket, prefix=f"{prefix}/" if prefix else None)
    objects = [(b, _relative(b.name, prefix)) for b in listed if not b.name.endswith("/")]
    if not objects:
        raise FileNotFoundError(f"no objects under {source} (TALE_GPU_WEIGHTS)")
    with ThreadPoolExecutor(PARALLEL_DOWNLOADS) as pool:
        sizes = list(pool.map(lambda item: _download(item[0], dest / item[1]), objects))
    (dest / COMPLETE).write_text(f"{source}\n", encoding="utf-8")
    log.info(
        "weights from %s: copied %d objects (%.1f GB) to %s in %.0f s",
        source,
        len(objects),
        sum(sizes) / 1e9,
        dest,
        time.monotonic() - start,
    )
    return dest


def _relative(name: str, prefix: str) -> PurePosixPath:
    relative = PurePosixPath(name[len(prefix) + 1 :] if prefix else name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"refusing to copy the object {name!r} outside the weights folder")
    return relative


def _download(blob: Any, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        blob.download_to_filename(str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target.stat().st_size
