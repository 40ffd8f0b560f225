"""`python -m gpu_worker [serve]` runs the server; `fetch` and `models` manage model files;
`build-engines` builds TensorRT engines ahead of time, for the model folder's `engines/`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gpu_worker.config import SettingsError, WorkerSettings
from gpu_worker.manifest import ModelFileError, get_spec, load_manifest, verified_model_path


def serve(settings: WorkerSettings) -> int:
    import uvicorn

    from gpu_worker.logs import configure_logging
    from gpu_worker.server import create_app

    # Fail fast, before binding the port, when a model is unknown, missing or not the right file.
    for name in settings.served_models:
        verified_model_path(get_spec(name, settings.model_dir), settings.model_dir)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        backlog=2048,
        # Longer than load balancers' idle timeout (ALB and SageMaker: 60 s), so the server is
        # never the side that closes a pooled connection under a request in flight.
        timeout_keep_alive=75,
        timeout_graceful_shutdown=settings.graceful_timeout_s,
    )
    return 0


def fetch(names: list[str], model_dir: Path, url: str | None) -> int:
    from gpu_worker.fetch import fetch_model

    for name in names:
        path = fetch_model(get_spec(name, model_dir), model_dir, url=url)
        print(f"{name}: {path} (sha256 verified)")
    return 0


def build_engines(settings: WorkerSettings) -> int:
    """Build each served model's TensorRT engine on this GPU into IPCAI_ENGINE_CACHE_DIR, so
    they can ship in model.tar.gz under engines/ and new instances start without a build."""
    from dataclasses import replace

    from gpu_worker.backends import backend_class
    from gpu_worker.detector import Detector

    if not backend_class("tensorrt").is_available():
        print("gpu_worker: error: build-engines needs TensorRT and an NVIDIA GPU", file=sys.stderr)
        return 2
    for name in settings.served_models:
        Detector.load(replace(settings, backend="tensorrt", lanes=1), name).close()
    for path in sorted(settings.engine_cache_dir.glob("*.engine")):
        print(f"{path} ({path.stat().st_size / 2**20:.1f} MiB)")
    print("copy these into <model folder>/engines/ for GPUs of this type")
    return 0


def list_models(model_dir: Path) -> int:
    for name, spec in sorted(load_manifest(model_dir).items()):
        try:
            verified_model_path(spec, model_dir)
            status = "ok"
        except ModelFileError as exc:
            status = "missing" if "not found" in str(exc) else "checksum mismatch"
        print(f"{name:24} {spec.family:10} {spec.file:36} {status}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpu_worker", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the inference server (the default)")
    fetch_cmd = commands.add_parser("fetch", help="download model files, verifying checksums")
    fetch_cmd.add_argument("names", nargs="+", help="model names from the manifest")
    fetch_cmd.add_argument("--dir", type=Path, help="target folder (default: IPCAI_MODEL_DIR)")
    fetch_cmd.add_argument("--url", help="download from this URL instead of the manifest's")
    commands.add_parser(
        "build-engines", help="build TensorRT engines for IPCAI_MODELS on this GPU (ahead of time)"
    )
    models_cmd = commands.add_parser("models", help="list known models and their file status")
    models_cmd.add_argument("--dir", type=Path, help="model folder (default: IPCAI_MODEL_DIR)")
    args = parser.parse_args(argv)
    try:
        settings = WorkerSettings.from_env()
        model_dir = getattr(args, "dir", None) or settings.model_dir
        if args.command == "fetch":
            return fetch(args.names, model_dir, args.url)
        if args.command == "models":
            return list_models(model_dir)
        if args.command == "build-engines":
            return build_engines(settings)
        return serve(settings)
    except (SettingsError, ModelFileError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        print(f"gpu_worker: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
