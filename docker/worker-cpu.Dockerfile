# syntax=docker/dockerfile:1
# The inference worker on CPU (ONNX Runtime), in SageMaker's bring-your-own-container layout:
# `serve` on PATH, HTTP on port 8080 (GET /ping, POST /invocations), model files in /opt/ml/model
# (SageMaker unpacks model.tar.gz there; locally, mount a folder). Build from the repository root:
#   docker build -f docker/worker-cpu.Dockerfile -t ipcai-worker-cpu .
#   docker run --rm -p 8080:8080 -v "$PWD/../shared/models:/opt/ml/model:ro" ipcai-worker-cpu
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the worker needs: it is standalone (no Django, no apps/). The source is installed,
# then removed, so the image runs exactly the installed package.
COPY pyproject.toml constraints.txt README.md /tmp/src/
COPY gpu_worker /tmp/src/gpu_worker
# The plate reader's weights ship in the rapidocr wheels (gpu_worker/stages.json); --no-deps:
# its dependencies (a second OpenCV build among them) are not wanted.
RUN pip install -c /tmp/src/constraints.txt '/tmp/src[worker]' \
 && pip install --no-deps rapidocr-onnxruntime==1.4.4 rapidocr==3.10.0 \
 && rm -rf /tmp/src

COPY --chmod=0755 docker/serve /usr/local/bin/serve

# Unprivileged user; HOME holds nothing but caches.
RUN useradd --create-home --uid 1000 worker
USER worker
WORKDIR /home/worker

ENV IPCAI_MODEL_DIR=/opt/ml/model \
    IPCAI_MODEL=deimv2_femto \
    IPCAI_BACKEND=onnxruntime \
    PORT=8080
EXPOSE 8080

# No ENTRYPOINT: SageMaker passes `serve` as the command, and so does the default below.
CMD ["serve"]
