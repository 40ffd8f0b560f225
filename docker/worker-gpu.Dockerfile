# syntax=docker/dockerfile:1
# The inference worker on an NVIDIA GPU (TensorRT, with ONNX Runtime's CUDA provider as the
# fallback), in SageMaker's bring-your-own-container layout: `serve` on PATH, port 8080, model
# files in /opt/ml/model. Build from the repository root (x86_64):
#   docker build -f docker/worker-gpu.Dockerfile -t ipcai-worker-gpu .
#   docker run --rm --gpus all -p 8080:8080 -v "$PWD/../shared/models:/opt/ml/model:ro" ipcai-worker-gpu
#
# CUDA 12.4 + cuDNN 9: what onnxruntime-gpu 1.22 and the tensorrt-cu12 wheels need, and the
# newest CUDA that SageMaker's GPU host image al2-ami-sagemaker-inference-gpu-3-1 (driver 550)
# runs natively. The gpu-endpoint template selects that host image (InferenceAmiVersion).
FROM ghcr.io/astral-sh/uv:0.12.9 AS uv

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_INSTALL_DIR=/opt/python

# Ubuntu 22.04 ships Python 3.10; the project targets 3.11. uv installs a standalone CPython 3.11
# and a virtual environment with pip in it.
COPY --from=uv /uv /usr/local/bin/uv
RUN uv venv --seed --python 3.11 /opt/venv && rm /usr/local/bin/uv
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# The `gpu` extra adds tensorrt-cu12, cuda-python and onnxruntime-gpu. onnxruntime (CPU, from the
# `worker` extra) and onnxruntime-gpu install the same `onnxruntime` package, so both are removed
# and only the GPU build is put back. Keep this version equal to pyproject.toml's `gpu` extra
# (tests/docker checks it).
ARG ONNXRUNTIME_GPU_VERSION=1.22.0
COPY pyproject.toml constraints.txt README.md /tmp/src/
COPY gpu_worker /tmp/src/gpu_worker
RUN pip install -c /tmp/src/constraints.txt '/tmp/src[worker,gpu]' \
 && pip uninstall -y onnxruntime onnxruntime-gpu \
 && pip install --no-deps "onnxruntime-gpu==${ONNXRUNTIME_GPU_VERSION}" \
 && pip install --no-deps rapidocr-onnxruntime==1.4.4 rapidocr==3.10.0 \
 && rm -rf /tmp/src

COPY --chmod=0755 docker/serve /usr/local/bin/serve

# Runs as root, unlike the other images: SageMaker's contract for inference containers says it
# expects them to run as root and that users without root access can cause permission issues
# ("Custom Inference Code with Hosting Services"), and this image exists for SageMaker. What
# root can reach is kept small there (network isolation in infra/cloudformation/gpu-endpoint).
# TensorRT engines are looked up in /opt/ml/model/engines/ (built ahead of time with
# `python -m gpu_worker build-engines` on the target GPU type and shipped in model.tar.gz),
# else built on first start (minutes) and cached under IPCAI_ENGINE_CACHE_DIR, keyed by model
# checksum, GPU, TensorRT version, max batch, precision and build revision (docs/WORKER.md).
WORKDIR /opt/ipcai

ENV IPCAI_MODEL_DIR=/opt/ml/model \
    IPCAI_MODEL=deimv2_femto \
    IPCAI_BACKEND=auto \
    IPCAI_ENGINE_CACHE_DIR=/opt/ipcai/engines \
    PORT=8080
EXPOSE 8080

CMD ["serve"]
