"""Small real ONNX files built with the ``onnx`` helper, for tests that need no torch.

``passthrough`` obeys the model contract: where a hint is painted the output takes the hint
colour, elsewhere the line value in gray. Other builders break one rule each.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from krita_deepcolor.engine.contract import ModelInfo

OPSET = 17


def info(**overrides) -> ModelInfo:
    fields = dict(name="passthrough", variant="test", train_size=64, size_multiple=8,
                  uses_hints=True, data="none (test model)", license="GPL-3.0-or-later",
                  description="hint colour where painted, line gray elsewhere", line_width=2.0)
    fields.update(overrides)
    return ModelInfo(**fields)


def _graph(nodes, inputs, outputs, initializers=()):
    return helper.make_graph(nodes, "contract_test", inputs, outputs, initializer=list(initializers))


def _tensor(name, channels, dtype=TensorProto.FLOAT, rank=4):
    shape = ["N", channels, "H", "W"][:rank] if rank <= 4 else ["N", channels, "H", "W"] + [1] * (rank - 4)
    return helper.make_tensor_value_info(name, dtype, shape)


def _const(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def passthrough_nodes(strict: bool):
    """color = hint_rgb * a + line * (1 - a); with ``strict`` the graph pools by 8 and
    upsamples back, so a size that is not a multiple of 8 fails inside onnxruntime."""
    nodes = [
        helper.make_node("Slice", ["hint", "rgb_start", "rgb_end", "axis1"], ["hint_rgb"]),
        helper.make_node("Slice", ["hint", "rgb_end", "a_end", "axis1"], ["hint_a"]),
        helper.make_node("Mul", ["hint_rgb", "hint_a"], ["painted"]),
        helper.make_node("Sub", ["one", "hint_a"], ["unpainted"]),
        helper.make_node("Mul", ["line", "unpainted"], ["paper"]),
        helper.make_node("Add", ["painted", "paper"], ["mixed"]),
    ]
    if strict:
        nodes += [
            helper.make_node("AveragePool", ["mixed"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Resize", ["pooled", "", "scales"], ["coarse"], mode="nearest"),
            helper.make_node("Add", ["coarse", "mixed"], ["sum"]),
            helper.make_node("Mul", ["sum", "half"], ["color"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["mixed"], ["color"]))
    constants = [_const("rgb_start", np.array([0], np.int64)), _const("rgb_end", np.array([3], np.int64)),
                 _const("a_end", np.array([4], np.int64)), _const("axis1", np.array([1], np.int64)),
                 _const("one", np.array(1.0, np.float32)), _const("half", np.array(0.5, np.float32)),
                 _const("scales", np.array([1, 1, 8, 8], np.float32))]
    return nodes, constants


def build(path, *, model_info: ModelInfo | None = None, strict=False, input_names=("line", "hint"),
          line_rank=4, hint_dtype=TensorProto.FLOAT, metadata: dict | None = None,
          drop_metadata=()):
    """Write a contract model (or one with a single defect) to ``path``; returns ``path``."""
    nodes, constants = passthrough_nodes(strict)
    renames = dict(zip(("line", "hint"), input_names, strict=True))
    for node in nodes:
        node.input[:] = [renames.get(name, name) for name in node.input]
    if hint_dtype != TensorProto.FLOAT:  # a valid graph whose hint input has the wrong type
        for node in nodes:
            node.input[:] = ["hint_float" if name == input_names[1] else name for name in node.input]
        nodes.insert(0, helper.make_node("Cast", [input_names[1]], ["hint_float"], to=TensorProto.FLOAT))
    inputs = [_tensor(input_names[0], 1, rank=line_rank), _tensor(input_names[1], 4, dtype=hint_dtype)]
    graph = _graph(nodes, inputs, [_tensor("color", 3)], constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    props = (model_info or info()).to_props() if metadata is None else dict(metadata)
    for key in drop_metadata:
        props.pop(key, None)
    helper.set_model_props(model, props)
    onnx.save(model, str(path))
    return path
