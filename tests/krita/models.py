"""The models the Krita suites colour with, written into one folder before Krita starts.

* ``passthrough``: the contract test model (hint colour where painted, line gray elsewhere).
* ``slow``: the same colours, but the graph first spends seconds on a chain of matrix products,
  so that cancelling and closing a document mid-run can be tested.

    python -m tests.krita.models FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.contract_models import OPSET, build, info, passthrough_nodes

PASSTHROUGH, SLOW = "passthrough", "slow"
SLOW_PRODUCTS = 400  # 1024x1024 matrix products: many seconds on any CPU, each a cancel point
MATRIX_SIDE = 1024


def _tensor(name: str, channels: int):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", channels, "H", "W"])


def build_slow(path: Path) -> Path:
    nodes, constants = passthrough_nodes(strict=False)
    nodes = [node for node in nodes if node.output[0] != "color"]  # keep "mixed", drop the Identity
    nodes.append(helper.make_node("RandomUniform", [], ["m0"], shape=[MATRIX_SIDE, MATRIX_SIDE],
                                  dtype=TensorProto.FLOAT, low=-1.0, high=1.0))
    for step in range(SLOW_PRODUCTS):
        nodes.append(helper.make_node("MatMul", [f"m{step}", f"m{step}"], [f"p{step}"]))
        nodes.append(helper.make_node("Tanh", [f"p{step}"], [f"m{step + 1}"]))
    nodes += [
        helper.make_node("ReduceMean", [f"m{SLOW_PRODUCTS}"], ["busy"], keepdims=0),
        helper.make_node("Mul", ["busy", "zero"], ["nothing"]),
        helper.make_node("Add", ["mixed", "nothing"], ["color"]),
    ]
    constants.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    graph = helper.make_graph(nodes, "slow_contract_test", [_tensor("line", 1), _tensor("hint", 4)],
                              [_tensor("color", 3)], initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    props = info(name=SLOW, description="passthrough colours after seconds of busy work").to_props()
    helper.set_model_props(model, props)
    onnx.save(model, str(path))
    return path


def build_all(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    build(folder / f"{PASSTHROUGH}.onnx", model_info=info(name=PASSTHROUGH))
    build_slow(folder / f"{SLOW}.onnx")


if __name__ == "__main__":
    build_all(Path(sys.argv[1]))
