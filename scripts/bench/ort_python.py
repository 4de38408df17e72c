"""Python onnxruntime's bare InferenceSession.run on the bundled models, for
scripts/bench-engine.sh: the same models, inputs (fixture case 0) and session settings as the
engine (CPU, 1 intra-op and 1 inter-op thread, sequential, basic graph optimisations,
deterministic compute). Prints one JSON object per model.

Usage: ort_python.py <models dir> <iterations> <cold loads>
"""

import json
import pathlib
import sys
import time

import numpy as np
import onnxruntime as ort

MODELS = ["linear_regressor", "mlp_classifier", "cnn_mnist", "tree_ensemble_classifier"]
NUMPY = {"f32": np.float32, "f64": np.float64, "i64": np.int64, "i32": np.int32,
         "i8": np.int8, "u8": np.uint8, "bool": np.bool_}


def options():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.use_deterministic_compute = True
    return so


def percentile(sorted_values, p):
    rank = round(p / 100 * (len(sorted_values) - 1))
    return sorted_values[min(rank, len(sorted_values) - 1)]


def main():
    models = pathlib.Path(sys.argv[1])
    iterations = int(sys.argv[2])
    cold_loads = int(sys.argv[3])
    for model in MODELS:
        path = models / f"{model}.onnx"
        fixtures = json.loads((models / f"{model}.fixtures.json").read_text())
        feeds = {
            t["name"]: np.array(t["data"], dtype=NUMPY[t["dtype"]]).reshape(t["shape"])
            for t in fixtures["cases"][0]["inputs"]
        }
        cold = []
        for _ in range(cold_loads):
            started = time.perf_counter()
            session = ort.InferenceSession(str(path), options(), providers=["CPUExecutionProvider"])
            session.run(None, feeds)
            cold.append((time.perf_counter() - started) * 1e6)
        for _ in range(iterations // 10):
            session.run(None, feeds)
        warm = []
        for _ in range(iterations):
            started = time.perf_counter()
            session.run(None, feeds)
            warm.append((time.perf_counter() - started) * 1e6)
        warm.sort()
        cold.sort()
        print(json.dumps({
            "model": model,
            "iterations": iterations,
            "median_us": percentile(warm, 50),
            "p99_us": percentile(warm, 99),
            "cold_median_us": percentile(cold, 50),
        }))


if __name__ == "__main__":
    main()
