"""Download a model named in the manifest, with a progress bar and a checksum check.

The file is written to a temporary name and only renamed into place once its sha256 matches,
so an interrupted or tampered download never leaves a file the worker would load.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

from tqdm import tqdm

from gpu_worker.manifest import ModelFileError, ModelSpec, sha256_of


def fetch_model(
    spec: ModelSpec, model_dir: Path, url: str | None = None, quiet: bool = False
) -> Path:
    """Fetch spec's file into model_dir unless a verified copy is already there."""
    target = model_dir / spec.file
    if target.is_file() and sha256_of(target) == spec.sha256:
        return target
    source = url or spec.source_url
    if not source:
        raise ModelFileError(f"model {spec.name!r} has no source_url in its manifest entry")
    model_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.file}.", dir=model_dir)
    try:
        with urllib.request.urlopen(source, timeout=60) as response, os.fdopen(fd, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=spec.file, disable=quiet) as bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != spec.sha256:
            raise ModelFileError(
                f"download of {spec.name} from {source} has sha256 {digest.hexdigest()}, "
                f"expected {spec.sha256}; nothing was written"
            )
        os.replace(tmp_name, target)
        return target
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
