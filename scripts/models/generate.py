"""Generates Verity's bundled ONNX models and their fixtures into models/.

Each model is written as models/<name>.onnx; beside it, models/<name>.fixtures.json holds the
model id (blake2_256 of the file, as the chain computes it), the ONNX Runtime session settings
used, and cases: inputs and the outputs Python onnxruntime gives for them, as Verity JSON tensors
({"name", "dtype", "shape", "data"}).

Weights come from fixed seeds (and the tree ensemble from scikit-learn's bundled iris data set),
so a run with the pinned packages of requirements.txt reproduces the same files.

models/extra/ holds models that are not in the chains' genesis: wide_mlp.onnx, large enough to
upload in several chunks (used by the upload tool's test). models/faulty/ holds models that
misbehave on purpose, for the engine's tests: one whose outputs
are always NaN and one that never finishes. They have no fixtures.

models/hostile/ holds models an attacker would publish to take validators down, each small:
memory bombs (ConstantOfShape and Expand of a tiny input to many GiB), one MatMul that runs for
minutes, a long chain of cheap operators, a tensor whose data is an external file, and an output
far above the bounds. Beside each, <name>.metadata.json (for scripts/upload-model.js) declares
its limits, and hostile/jobs.json gives the inputs of a job on it and the canonical failure
every validator must reach.

Run it through scripts/generate-models.sh, which installs those packages in a virtualenv.
"""

import hashlib
import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
OUT = pathlib.Path(__file__).resolve().parents[2] / "models"

DTYPES = {
    np.dtype("float32"): "f32",
    np.dtype("float64"): "f64",
    np.dtype("int64"): "i64",
    np.dtype("int32"): "i32",
    np.dtype("int8"): "i8",
    np.dtype("uint8"): "u8",
    np.dtype("bool"): "bool",
}


def tensor_json(name, array):
    array = np.asarray(array)
    dtype = DTYPES[array.dtype]
    flat = array.reshape(-1)
    if dtype == "f32":
        # float32 values printed with their shortest round-trip digits.
        data = [float(np.format_float_positional(v, unique=True, trim="0")) for v in flat]
    elif dtype == "bool":
        data = [bool(v) for v in flat]
    elif dtype == "f64":
        data = [float(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    return {"name": name, "dtype": dtype, "shape": list(array.shape), "data": data}


def finish(model, name, out=OUT):
    model.producer_name = "verity-models"
    model.producer_version = "1"
    onnx.checker.check_model(model, full_check=True)
    path = out / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def linear_regressor(rng):
    w = rng.normal(0, 0.5, size=(10, 1)).astype(np.float32)
    b = np.array([0.25], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear_regressor",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [{"x": rng.normal(0, 1, size=(n, 10)).astype(np.float32)} for n in (1, 1, 4)]
    return finish(model, "linear_regressor"), inputs


def mlp_classifier(rng):
    w1 = rng.normal(0, 0.6, size=(4, 16)).astype(np.float32)
    b1 = rng.normal(0, 0.1, size=(16,)).astype(np.float32)
    w2 = rng.normal(0, 0.6, size=(16, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, size=(3,)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
            helper.make_node("Relu", ["h"], ["h_relu"]),
            helper.make_node("Gemm", ["h_relu", "w2", "b2"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "mlp_classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [{"x": rng.normal(0, 1, size=(n, 4)).astype(np.float32)} for n in (1, 1, 5)]
    return finish(model, "mlp_classifier"), inputs


def cnn_mnist(rng):
    c1 = rng.normal(0, 0.3, size=(4, 1, 3, 3)).astype(np.float32)
    c1b = rng.normal(0, 0.05, size=(4,)).astype(np.float32)
    c2 = rng.normal(0, 0.2, size=(8, 4, 3, 3)).astype(np.float32)
    c2b = rng.normal(0, 0.05, size=(8,)).astype(np.float32)
    fc = rng.normal(0, 0.05, size=(8 * 7 * 7, 10)).astype(np.float32)
    fcb = rng.normal(0, 0.05, size=(10,)).astype(np.float32)
    pads = [1, 1, 1, 1]
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "c1", "c1b"], ["a1"], pads=pads),
            helper.make_node("Relu", ["a1"], ["r1"]),
            helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Conv", ["p1", "c2", "c2b"], ["a2"], pads=pads),
            helper.make_node("Relu", ["a2"], ["r2"]),
            helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p2"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "fc", "fcb"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "cnn_mnist",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])],
        [
            numpy_helper.from_array(a, n)
            for a, n in ((c1, "c1"), (c1b, "c1b"), (c2, "c2"), (c2b, "c2b"), (fc, "fc"), (fcb, "fcb"))
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [{"image": rng.uniform(0, 1, size=(1, 1, 28, 28)).astype(np.float32)} for _ in range(3)]
    return finish(model, "cnn_mnist"), inputs


def tree_ensemble_classifier(rng):
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    iris = load_iris()
    x = iris.data.astype(np.float32)
    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(x, iris.target)
    model = to_onnx(
        forest,
        x[:1],
        options={id(forest): {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )
    model.graph.input[0].name = "x"
    for node in model.graph.node:
        node.input[:] = ["x" if i == "X" else i for i in node.input]
    picks = rng.choice(len(x), size=4, replace=False)
    inputs = [{"x": x[picks[:1]]}, {"x": x[picks[1:2]]}, {"x": x[picks]}]
    return finish(model, "tree_ensemble_classifier"), inputs


def nan_output():
    """y = (x - x) / (x - x): NaN for every input."""
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["x", "x"], ["zero"]),
            helper.make_node("Div", ["zero", "zero"], ["y"]),
        ],
        "nan_output",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return finish(model, "nan_output", OUT / "faulty")


def never_finishes():
    """A Loop with no trip count whose condition stays true: it runs until stopped."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1, 4]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1, 4]),
        ],
        [numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one")],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["", "keep_going", "x"], ["y"], body=body)],
        "never_finishes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.array(True), "keep_going")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return finish(model, "never_finishes", OUT / "faulty")


def wide_mlp(rng):
    """A 4 -> 256 -> 256 -> 3 MLP (about 270 KB): big enough to upload in several chunks."""
    w1 = rng.normal(0, 0.5, size=(4, 256)).astype(np.float32)
    w2 = rng.normal(0, 0.1, size=(256, 256)).astype(np.float32)
    w3 = rng.normal(0, 0.1, size=(256, 3)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["a1"]),
            helper.make_node("MatMul", ["a1", "w2"], ["h2"]),
            helper.make_node("Relu", ["h2"], ["a2"]),
            helper.make_node("MatMul", ["a2", "w3"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "wide_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(w, n) for w, n in ((w1, "w1"), (w2, "w2"), (w3, "w3"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return finish(model, "wide_mlp", OUT / "extra")


def hostile_constant_of_shape():
    """ConstantOfShape fills a tensor of the shape the requester sends: [32768, 32768] is 4 GiB."""
    graph = helper.make_graph(
        [
            helper.make_node(
                "ConstantOfShape", ["shape"], ["big"],
                value=numpy_helper.from_array(np.array([1.0], dtype=np.float32)),
            ),
            helper.make_node("ReduceSum", ["big"], ["y"], keepdims=0),
        ],
        "constant_of_shape_bomb",
        [helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [{"name": "shape", "dtype": "i64", "shape": [2], "data": [32768, 32768]}]
    return finish(model, "constant_of_shape_bomb", OUT / "hostile"), inputs, "OutOfMemory"


def hostile_expand():
    """Expand broadcasts a [1, 1] input to a constant [65536, 65536]: 16 GiB."""
    graph = helper.make_graph(
        [
            helper.make_node("Expand", ["x", "shape"], ["big"]),
            helper.make_node("ReduceSum", ["big"], ["y"], keepdims=0),
        ],
        "expand_bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(np.array([65536, 65536], dtype=np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [{"name": "x", "dtype": "f32", "shape": [1, 1], "data": [0.5]}]
    return finish(model, "expand_bomb", OUT / "hostile"), inputs, "OutOfMemory"


def hostile_slow_matmul():
    """One MatMul of two [n, n] matrices expanded from a [1, 1] input: n = 8192 is 1.1e12
    multiply-adds, many seconds to minutes in one operator that nothing can interrupt."""
    graph = helper.make_graph(
        [
            helper.make_node("Expand", ["x", "n"], ["a"]),
            helper.make_node("MatMul", ["a", "a"], ["product"]),
            helper.make_node("ReduceSum", ["product"], ["y"], keepdims=0),
        ],
        "slow_matmul",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info("n", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [
        {"name": "x", "dtype": "f32", "shape": [1, 1], "data": [0.001]},
        {"name": "n", "dtype": "i64", "shape": [2], "data": [8192, 8192]},
    ]
    return finish(model, "slow_matmul", OUT / "hostile"), inputs, "Timeout"


def hostile_long_chain(length=20000):
    """20000 Adds one after another on a [1, 65536] tensor broadcast from a [1, 1] input: each
    cheap, together far past the declared time."""
    nodes = [helper.make_node("Expand", ["x", "width"], ["t"])]
    prev = "t"
    for i in range(length):
        out = f"t{i}"
        nodes.append(helper.make_node("Add", [prev, "one"], [out]))
        prev = out
    nodes.append(helper.make_node("ReduceSum", [prev], ["y"], keepdims=0))
    graph = helper.make_graph(
        nodes,
        "long_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        [
            numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
            numpy_helper.from_array(np.array([1, 65536], dtype=np.int64), "width"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [{"name": "x", "dtype": "f32", "shape": [1, 1], "data": [0.0]}]
    return finish(model, "long_chain", OUT / "hostile"), inputs, "Timeout"


def hostile_external_data():
    """An initializer whose data is "in" /etc/hostname: a model must be only its bytes."""
    w = numpy_helper.from_array(np.zeros((1, 4), dtype=np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "/etc/hostname"), ("offset", "0"), ("length", "16")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "external_data",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    # The checker would look for the file: write the model without it.
    model.producer_name = "verity-models"
    model.producer_version = "1"
    path = OUT / "hostile" / "external_data.onnx"
    path.write_bytes(model.SerializeToString())
    inputs = [{"name": "x", "dtype": "f32", "shape": [1, 4], "data": [1.0, 2.0, 3.0, 4.0]}]
    return path, inputs, "ExternalData"


def hostile_huge_output():
    """Expand a [1, 1] input to the shape the requester sends: [2048, 2048] is 16 MiB of f32,
    above the 4 MiB a tensor may have."""
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "huge_output",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", "columns"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inputs = [
        {"name": "x", "dtype": "f32", "shape": [1, 1], "data": [0.25]},
        {"name": "shape", "dtype": "i64", "shape": [2], "data": [2048, 2048]},
    ]
    return finish(model, "huge_output", OUT / "hostile"), inputs, "OutputTooLarge"


# What each hostile model declares: small limits, as an attacker would (the cheaper a job looks,
# the more of them the chain admits). slow_matmul declares enough that expanding its input to
# 256 MiB (its first operator) never uses it up: the worker's own watchdog, which acts between
# operators, would otherwise sometimes stop it before the multiplication, and the case it is
# for is the one operator only the node's kill stops.
HOSTILE_LIMITS = {
    "constant_of_shape_bomb": {"cpuMillis": 200, "memoryMib": 256},
    "expand_bomb": {"cpuMillis": 200, "memoryMib": 256},
    "slow_matmul": {"cpuMillis": 1000, "memoryMib": 768},
    "long_chain": {"cpuMillis": 20, "memoryMib": 256},
    "external_data": {"cpuMillis": 10, "memoryMib": 64},
    "huge_output": {"cpuMillis": 200, "memoryMib": 256},
}


def hostile_metadata(path, inputs_spec, outputs_spec, limits):
    return {
        "name": path.stem,
        "version": "1.0.0",
        "description": "hostile test model: " + path.stem.replace("_", " "),
        "opset": OPSET,
        "inputs": inputs_spec,
        "outputs": outputs_spec,
        "outputDecimals": 6,
        "tolerance": 0,
        "fee": "1000000000",
        "hosting": "onChain",
        "limits": limits,
    }


def spec_json(value_info):
    names = {TensorProto.FLOAT: "f32", TensorProto.INT64: "i64"}
    dims = value_info.type.tensor_type.shape.dim
    return {
        "name": value_info.name,
        "dtype": names[value_info.type.tensor_type.elem_type],
        "shape": [d.dim_value if d.HasField("dim_value") else None for d in dims],
    }


def hostile_models():
    jobs = []
    for build in (
        hostile_constant_of_shape,
        hostile_expand,
        hostile_slow_matmul,
        hostile_long_chain,
        hostile_external_data,
        hostile_huge_output,
    ):
        path, inputs, failure = build()
        model = onnx.ModelProto.FromString(path.read_bytes())
        metadata = hostile_metadata(
            path,
            [spec_json(v) for v in model.graph.input],
            [spec_json(v) for v in model.graph.output],
            HOSTILE_LIMITS[path.stem],
        )
        path.with_suffix(".metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
        data = path.read_bytes()
        jobs.append(
            {
                "model": path.name,
                "model_id": "0x" + hashlib.blake2b(data, digest_size=32).hexdigest(),
                "bytes": len(data),
                "inputs": inputs,
                "failure": failure,
            }
        )
        print(f"hostile/{path.name}: {len(data)} bytes, fails with {failure}")
    (OUT / "hostile" / "jobs.json").write_text(json.dumps(jobs, indent=1) + "\n")


def fixtures(path, inputs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    output_names = [o.name for o in session.get_outputs()]
    cases = []
    for feed in inputs:
        outputs = session.run(output_names, feed)
        cases.append(
            {
                "inputs": [tensor_json(k, v) for k, v in feed.items()],
                "outputs": [tensor_json(n, v) for n, v in zip(output_names, outputs)],
            }
        )
    data = path.read_bytes()
    return {
        "model": path.name,
        "model_id": "0x" + hashlib.blake2b(data, digest_size=32).hexdigest(),
        "bytes": len(data),
        "onnxruntime": ort.__version__,
        "session": {
            "execution_provider": "CPU",
            "intra_op_threads": 1,
            "inter_op_threads": 1,
            "graph_optimization_level": "basic",
        },
        "cases": cases,
    }


def main():
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(20261123)
    for build in (linear_regressor, mlp_classifier, cnn_mnist, tree_ensemble_classifier):
        path, inputs = build(rng)
        fx = fixtures(path, inputs)
        fixture_path = path.with_suffix(".fixtures.json")
        fixture_path.write_text(json.dumps(fx, indent=1) + "\n")
        print(f"{path.name}: {fx['bytes']} bytes, id {fx['model_id']}, {len(fx['cases'])} cases")
    (OUT / "extra").mkdir(exist_ok=True)
    path = wide_mlp(np.random.default_rng(20261124))
    print(f"extra/{path.name}: {path.stat().st_size} bytes")
    (OUT / "faulty").mkdir(exist_ok=True)
    for build in (nan_output, never_finishes):
        path = build()
        print(f"faulty/{path.name}: {path.stat().st_size} bytes")
    (OUT / "hostile").mkdir(exist_ok=True)
    hostile_models()
    return 0


if __name__ == "__main__":
    sys.exit(main())
