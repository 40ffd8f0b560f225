"""The work of a video job: probe and plan it, analyse one chunk, turn all chunks' frames into
events. Celery tasks (tasks.py) call these; each is safe to run twice (a redelivered task, the
sweep handing on a chunk whose worker died)."""

from __future__ import annotations

import logging
import math
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from functools import cache, partial
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.alerts.alerting import tracker_settings
from apps.alerts.queueing import queue
from apps.alerts.tracking import CameraState, Detection, TrackerSettings, expire, step
from apps.alerts.video_jobs import decode
from apps.alerts.video_jobs.chunking import effective_fps, plan_chunks
from apps.alerts.video_jobs.models import VideoJob, VideoJobChunk, VideoJobEvent
from apps.alerts.video_jobs.services import (
    ANALYZE_CHUNK,
    FINISH_JOB,
    START_JOB,
    complete_job,
    fail_job,
    limits_of,
)
from apps.cameras.config import CameraConfig, camera_entry, config_of
from apps.cameras.filtering import filter_boxes
from apps.cameras.models import Camera
from apps.core.redaction import redact_or_none
from apps.core.storage import get_storage
from apps.tenants.application_types import APPLICATION_LABELS
from apps.tenants.model_tiers import model_for
from apps.tenants.models import TenantService
from apps.tenants.redaction import redaction_of

logger = logging.getLogger(__name__)

Infer = Callable[[Sequence[bytes], Sequence[str], float, str], list[dict]]


@cache
def _infer_function(path: str) -> Infer:
    return import_string(path)


def infer() -> Infer:
    """The inference function named by IPCAI_VIDEO_INFERENCE (apps/detection, a higher floor)."""
    return _infer_function(settings.IPCAI_VIDEO_INFERENCE)


# --- the clip on local disk ---------------------------------------------------------------


def local_clip(job: VideoJob) -> Path:
    """The clip as a local file (FFmpeg seeks in files), copied once per host and job."""
    folder = Path(settings.IPCAI_VIDEO_WORK_DIR) / str(job.id)
    path = folder / "clip"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".clip.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    with partial.open("wb") as out:
        for part in get_storage().iter_chunks(job.source_key, 1024 * 1024):
            out.write(part)
    os.replace(partial, path)
    return path


def drop_local_clip(job_id: uuid.UUID | str) -> None:
    shutil.rmtree(Path(settings.IPCAI_VIDEO_WORK_DIR) / str(job_id), ignore_errors=True)


# --- start ----------------------------------------------------------------------------------


def start(job_id: str) -> None:
    """Probe the clip, refuse what cannot be analysed, cut it into chunks and queue them."""
    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None or job.finished:
        return
    if job.chunks_total:  # started before (a redelivered task): the sweep hands on chunks
        return
    try:
        info = decode.probe(local_clip(job))
    except decode.BadClip as exc:
        drop_local_clip(job.id)
        fail_job(job.id, exc.code, exc.message)
        return
    limit = limits_of(job.tenant_id).max_duration_s
    if info.duration_s > limit:
        drop_local_clip(job.id)
        fail_job(
            job.id,
            "clip_too_long",
            f"The clip lasts {info.duration_s:.0f} s; your limit is {limit:.0f} s.",
        )
        return
    fps = effective_fps(job.sample_fps, info.fps)
    plans = plan_chunks(info.duration_s, fps, settings.IPCAI_VIDEO_CHUNK_S)
    # Queued chunks count as held for one lease: the sweep hands on only those left unclaimed.
    held = timezone.now() + timedelta(seconds=settings.IPCAI_VIDEO_CHUNK_LEASE_S)
    with transaction.atomic():
        locked = VideoJob.objects.select_for_update().get(pk=job.pk)
        if locked.finished or locked.chunks_total:
            return
        VideoJobChunk.objects.bulk_create(
            [
                VideoJobChunk(
                    job=locked,
                    index=p.index,
                    first_sample=p.first_sample,
                    end_sample=p.end_sample,
                    start_s=p.start_s,
                    end_s=p.end_s,
                    held_until=held,
                )
                for p in plans
            ]
        )
        locked.codec, locked.duration_s, locked.clip_fps = info.codec, info.duration_s, info.fps
        locked.width, locked.height = info.width, info.height
        locked.sample_fps = fps
        locked.chunks_total = len(plans)
        locked.status = VideoJob.Status.RUNNING
        locked.started_at = timezone.now()
        locked.save()
        for p in plans:
            transaction.on_commit(partial(queue, ANALYZE_CHUNK, str(job.id), p.index))


# --- one chunk ------------------------------------------------------------------------------


# A chunk started this often without finishing (its worker killed each time: out of memory on
# a malformed frame, say) fails its job rather than going round the sweep for ever. Above the
# task's own retries (5 + 1) so an error a retry can cure never gets here first.
MAX_CHUNK_ATTEMPTS = 8


class ChunkExhausted(Exception):
    pass


def _claim(job_id: str, index: int) -> VideoJobChunk | None:
    """Hold the chunk for this worker, unless it is done or another live worker holds it;
    ChunkExhausted when it was started too often."""
    now = timezone.now()
    with transaction.atomic():
        chunk = (
            VideoJobChunk.objects.select_for_update()
            .select_related("job")
            .filter(job_id=uuid.UUID(job_id), index=index)
            .first()
        )
        if chunk is None or chunk.job.finished or chunk.status == VideoJobChunk.Status.DONE:
            return None
        if chunk.status == VideoJobChunk.Status.RUNNING and chunk.held_until > now:
            return None
        if chunk.attempts >= MAX_CHUNK_ATTEMPTS:
            raise ChunkExhausted(
                f"The part of the clip from {chunk.start_s:.0f} to {chunk.end_s:.0f} s stopped "
                f"its worker {chunk.attempts} times."
            )
        chunk.status = VideoJobChunk.Status.RUNNING
        chunk.attempts += 1
        chunk.held_until = now + timedelta(seconds=settings.IPCAI_VIDEO_CHUNK_LEASE_S)
        chunk.save(update_fields=["status", "attempts", "held_until"])
    return chunk


def service_thresholds(job: VideoJob) -> dict[str, float]:
    if job.min_confidence is not None:
        return dict.fromkeys(job.services, job.min_confidence)
    found = dict(
        TenantService.objects.filter(
            tenant_id=job.tenant_id, application_type__in=job.services
        ).values_list("application_type", "min_confidence")
    )
    return {s: found.get(s, 0.5) for s in job.services}


def _model(job: VideoJob) -> str:
    service = (
        TenantService.objects.filter(tenant_id=job.tenant_id, application_type=job.services[0])
        .select_related("model")
        .first()
    )
    if service is None:
        return ""
    return model_for(service.tier, service.model.name if service.model else "")


def camera_config(job: VideoJob) -> CameraConfig | None:
    if job.camera_id is None:
        return None
    camera = Camera.objects.filter(pk=job.camera_id).first()
    return config_of(camera_entry(camera)) if camera else None


def kept_detections(
    answer: dict, thresholds: dict[str, float], camera: CameraConfig | None
) -> list[dict]:
    """The boxes a live camera with these settings would keep: each service's labels at its
    threshold, then the camera's class thresholds, sizes, masks and zones."""
    boxes = answer.get("bbox_coords") or []
    scores = [s[0] for s in answer.get("bbox_scores") or []]
    labels = [n[0] for n in answer.get("class_names") or []]
    # license-plates: one plate ({"text", "score", "box"}) or None per box (docs/PLATES.md).
    plates = answer.get("plates") or [None] * len(boxes)
    kept: list[dict] = []
    taken: set[int] = set()  # vehicles and license-plates share their labels: keep a box once
    for service, threshold in thresholds.items():
        wanted = [
            i
            for i, label in enumerate(labels)
            if label in APPLICATION_LABELS[service] and i not in taken
        ]
        if not wanted:
            continue
        if camera is None:
            survivors: list[tuple[int, list[str]]] = [
                (i, []) for i in wanted if scores[i] >= threshold
            ]
        else:
            outcome = filter_boxes(
                camera,
                answer["width"],
                answer["height"],
                [boxes[i] for i in wanted],
                [scores[i] for i in wanted],
                [labels[i] for i in wanted],
                threshold,
            )
            survivors = [(wanted[k], z) for k, z in zip(outcome.kept, outcome.zones, strict=True)]
        for i, zones in survivors:
            taken.add(i)
            item = {
                "label": labels[i],
                "score": round(float(scores[i]), 4),
                "box": [round(float(c), 1) for c in boxes[i]],
                "zones": zones,
            }
            plate = plates[i] if i < len(plates) else None
            if isinstance(plate, dict) and plate.get("text"):
                item["plate"] = str(plate["text"])
            kept.append(item)
    return kept


Batch = TypeVar("Batch")

# Batches of one chunk task at the worker at once (IPCAI_VIDEO_BATCH_FRAMES frames each): one
# in flight while the next decodes, two while a decoded one waits (docs/BENCHMARKS.md).
BATCHES_IN_FLIGHT = 2


def inferred(
    batches: Iterator[Batch], run: Callable[[Batch], list[dict]], depth: int
) -> Generator[tuple[Batch, list[dict]]]:
    """Each batch with its answers, in order, with up to `depth` batches at the worker: while
    the caller's thread decodes the next batch (FFmpeg and libjpeg release the GIL), the
    previous one is being inferred, so the worker's lanes never wait for this chunk's
    decoding. A worker error comes out of the batch that met it (the task retries)."""
    pending: deque[tuple[Batch, Future[list[dict]]]] = deque()
    pool = ThreadPoolExecutor(max_workers=max(1, depth), thread_name_prefix="video-infer")
    try:
        for batch in batches:
            pending.append((batch, pool.submit(run, batch)))
            if len(pending) >= depth:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def analyze(job_id: str, index: int) -> str:
    """Analyse one chunk: decode its samples, send them in batches, keep what the camera would
    keep, and store the frames with the chunk (one write when done, so a killed worker leaves
    nothing half-written). Returns what happened, for the task's log."""
    try:
        chunk = _claim(job_id, index)
    except ChunkExhausted as exc:
        fail_job(job_id, "analysis_failed", str(exc))
        return "failed"
    if chunk is None:
        return "skipped"
    job = chunk.job
    thresholds = service_thresholds(job)
    camera = camera_config(job)
    floor = camera.threshold_floor(thresholds) if camera else min(thresholds.values())
    model = _model(job)
    stats = decode.DecodeStats()
    frames: list[dict] = []
    path = local_clip(job)
    send = infer()

    def run(batch: list[decode.SampledFrame]) -> list[dict]:
        return send([f.jpeg for f in batch], job.services, floor, model)

    decoded = decode.sampled_frames(
        path,
        fps=job.sample_fps,
        clip_fps=job.clip_fps,
        first_sample=chunk.first_sample,
        end_sample=chunk.end_sample,
        batch_size=settings.IPCAI_VIDEO_BATCH_FRAMES,
        stats=stats,
    )
    answered = inferred(decoded, run, BATCHES_IN_FLIGHT)
    try:
        for batch, answers in answered:
            for frame, answer in zip(batch, answers, strict=True):
                frames.append(
                    {"t": frame.t, "detections": kept_detections(answer, thresholds, camera)}
                )
            # Still ours, and not cancelled? Renewing the hold keeps the sweep off a live chunk.
            renewed = VideoJobChunk.objects.filter(
                pk=chunk.pk,
                status=VideoJobChunk.Status.RUNNING,
                job__status=VideoJob.Status.RUNNING,
            ).update(
                held_until=timezone.now() + timedelta(seconds=settings.IPCAI_VIDEO_CHUNK_LEASE_S)
            )
            if not renewed:
                return "abandoned"
    finally:
        answered.close()  # an abandoned chunk: the batches still at the worker are waited for
    cut = stats.cut_at_s
    if cut is not None and cut >= job.duration_s - 2.0 / job.clip_fps - 1.0 / job.sample_fps:
        cut = None  # the clip's last samples rounded past its last frame: not a damaged file
    with transaction.atomic():
        locked = VideoJob.objects.select_for_update().get(pk=job.pk)
        done = VideoJobChunk.objects.filter(
            pk=chunk.pk, status=VideoJobChunk.Status.RUNNING
        ).update(status=VideoJobChunk.Status.DONE, frames=frames, cut_at_s=cut)
        if not done or locked.finished:
            return "abandoned"
        chunks = VideoJobChunk.objects.filter(job=locked)
        media = chunks.filter(status=VideoJobChunk.Status.DONE).aggregate(
            s=Sum("end_s") - Sum("start_s")
        )["s"]
        locked.media_done_s = max(locked.media_done_s, min(float(media or 0), locked.duration_s))
        locked.save(update_fields=["media_done_s"])
        if not chunks.exclude(status=VideoJobChunk.Status.DONE).exists():
            transaction.on_commit(lambda: queue(FINISH_JOB, str(locked.id)))
    logger.info(
        "video job %s chunk %s: %d frames, decode %.2f s, jpeg %.2f s, %d seeks",
        job_id,
        index,
        len(frames),
        stats.decode_s,
        stats.encode_s,
        stats.seeks,
    )
    return "done"


# --- all chunks to events -------------------------------------------------------------------


def job_tracker_settings(job: VideoJob) -> TrackerSettings:
    base = tracker_settings(job.camera_id) if job.camera_id else None
    return base or TrackerSettings()


def events_of(
    frames: Sequence[dict], settings_: TrackerSettings, job: VideoJob
) -> list[VideoJobEvent]:
    """The live cameras' tracker over every analysed frame in media order: a visit crossing a
    chunk boundary is one track. Open events close where their object was last seen."""
    state = CameraState()
    opened: dict[str, VideoJobEvent] = {}
    plates: dict[str, str] = {}

    def apply(changes) -> None:
        for change in changes or []:
            track = change.track
            event = opened.get(change.event_id)
            if event is None:
                event = VideoJobEvent(
                    id=uuid.UUID(change.event_id),
                    job=job,
                    tenant_id=job.tenant_id,
                    label=track.label,
                    start_s=round(track.event_started or track.last_seen, 3),
                    end_s=round(track.last_seen, 3),
                )
                opened[change.event_id] = event
            event.end_s = round(track.last_seen, 3)
            event.max_score = round(max(event.max_score, track.best_score), 4)
            event.zones = sorted(track.zones)
            event.box = [round(c, 1) for c in track.best_box]
            event.best_s = round(track.best_at if track.best_at is not None else event.start_s, 3)

    for frame in frames:
        detections = [
            Detection(d["label"], d["score"], tuple(d["box"]), tuple(d.get("zones") or ()))
            for d in frame["detections"]
        ]
        changes = step(state, detections, frame["t"], settings_, lambda: str(uuid.uuid4()))
        apply(changes)
        for change in changes or []:  # the plate read on the track's own box in this frame
            for d in frame["detections"]:
                if d.get("plate") and [float(c) for c in d["box"]] == change.track.box:
                    plates.setdefault(change.event_id, d["plate"])
    apply(expire(state, math.inf, settings_))
    for event_id, plate in plates.items():
        if event_id in opened:
            opened[event_id].plate = str(plate)[:32]
    return sorted(opened.values(), key=lambda e: (e.start_s, e.label))


def _store_snapshots(job: VideoJob, events: list[VideoJobEvent]) -> None:
    """Each event's best frame, decoded again at its media time (a few seeks per job)."""
    if not events:
        return
    storage = get_storage()
    path = local_clip(job)
    redact = redaction_of(job.tenant_id)
    for event in events:
        sample = round(event.best_s * job.sample_fps)
        stats = decode.DecodeStats()
        for batch in decode.sampled_frames(
            path,
            fps=job.sample_fps,
            clip_fps=job.clip_fps,
            first_sample=sample,
            end_sample=sample + 1,
            batch_size=1,
            stats=stats,
            jpeg_quality=90,
        ):
            key = f"video-jobs/{job.tenant_id}/{job.id}/events/{event.id}.jpg"
            jpeg: bytes | None = batch[0].jpeg
            if redact:  # a redacting tenant's snapshot is stored blurred, or not at all
                jpeg = redact_or_none(batch[0].jpeg, redact)
            if jpeg is None:
                continue
            storage.put_once(key, jpeg, "image/jpeg")
            event.snapshot_key = key


def finish(job_id: str) -> str:
    """Every chunk done: events, snapshots, metering and the webhook, once."""
    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None or job.finished:
        return "skipped"
    chunks = list(VideoJobChunk.objects.filter(job=job).order_by("index"))
    if not chunks or any(c.status != VideoJobChunk.Status.DONE for c in chunks):
        return "waiting"
    frames: list[dict] = []
    cut_at: float | None = None
    for chunk in chunks:
        frames.extend(chunk.frames)
        if chunk.cut_at_s is not None:
            cut_at = chunk.cut_at_s
            break  # a damaged clip: the events before the cut
    frames = [f for f in frames if cut_at is None or f["t"] <= cut_at]
    if not frames:
        drop_local_clip(job.id)
        fail_job(
            job.id,
            "unreadable_clip",
            "No frame of the clip could be decoded (a truncated or damaged file).",
        )
        return "failed"
    events = events_of(frames, job_tracker_settings(job), job)
    _store_snapshots(job, events)
    with transaction.atomic():
        locked = VideoJob.objects.select_for_update().get(pk=job.pk)
        if locked.finished:
            get_storage().delete([e.snapshot_key for e in events if e.snapshot_key])
            return "skipped"
        locked.cut_at_s = cut_at
        if cut_at is not None:
            locked.error_message = (
                f"The clip is damaged after {cut_at:.1f} s; events before it are listed."
            )[:500]
        complete_job(locked, events, len(frames))
    drop_local_clip(job.id)
    return "succeeded"


# --- the sweep ------------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Hand on what a dead worker or a lost message left: chunks whose hold expired go back to
    the queue, jobs never started are started, finished chunks get their job finished."""
    now = timezone.now()
    counts = {"chunks": 0, "started": 0, "finished": 0}
    expired = VideoJobChunk.objects.filter(
        job__status=VideoJob.Status.RUNNING, held_until__lt=now
    ).exclude(status=VideoJobChunk.Status.DONE)
    for job_id, index in expired.values_list("job_id", "index")[:500]:
        queue(ANALYZE_CHUNK, str(job_id), index)
        counts["chunks"] += 1
    stale = now - timedelta(seconds=settings.IPCAI_VIDEO_CHUNK_LEASE_S)
    for job_id in VideoJob.objects.filter(
        status=VideoJob.Status.QUEUED, created_at__lt=stale
    ).values_list("id", flat=True)[:100]:
        queue(START_JOB, str(job_id))
        counts["started"] += 1
    running = VideoJob.objects.filter(status=VideoJob.Status.RUNNING, chunks_total__gt=0)
    for job in running[:100]:
        if not job.chunks.exclude(status=VideoJobChunk.Status.DONE).exists():
            queue(FINISH_JOB, str(job.id))
            counts["finished"] += 1
    return counts
