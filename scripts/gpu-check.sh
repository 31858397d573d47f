#!/usr/bin/env bash
# The GPU execution providers (CUDA, TensorRT) on the packaged backbone, fp32 and fp16, against
# ONNX Runtime's CPU output: largest |Δ| relative to scale, and img/s. Without a GPU it says so
# and exits 0. Usage: bash scripts/gpu-check.sh [--model DIR] [--batch 16] [--seconds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not found (no NVIDIA driver here)"
dotnet build bench/Edge.Bench -c Release -v q -nologo
dotnet bench/Edge.Bench/bin/Release/net10.0/edgetl-bench.dll gpu-check "$@"
