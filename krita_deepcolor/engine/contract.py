"""The model contract: the one seam between the training toolchain and the plugin.

Every generator shipped in ``models/`` or exported by ``export/`` obeys it, so the engine can
run any variant without knowing which one it is:

* input ``line``:  float32 ``[N, 1, H, W]``, 1.0 = paper, 0.0 = ink
  (the line-art layer composited over white).
* input ``hint``:  float32 ``[N, 4, H, W]``, straight RGBA in [0, 1]; A marks where the user
  painted a hint (all zero = no hints).
* output ``color``: float32 ``[N, 3, H, W]``, sRGB in [0, 1], same H and W as the inputs.
* H and W: any multiple of ``size_multiple``; the engine pads and crops.
* Variant-specific processing (hint blur and fade, LCH conversion, class decoding,
  upsampling) lives inside the graph.
* ``metadata_props`` describe the file; the keys are listed in ``REQUIRED_METADATA``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ContractError

CONTRACT_VERSION = 1

# (name, channels, rank) of each tensor the graph must have; all are float32.
INPUTS = (("line", 1), ("hint", 4))
OUTPUTS = (("color", 3),)
TENSOR_RANK = 4
ONNX_FLOAT = "tensor(float)"

REQUIRED_METADATA = {
    "contract_version": "model contract version this file obeys (integer)",
    "name": "short model name, unique among shipped models",
    "variant": "the training recipe that made it (a name, for people: the engine runs any recipe)",
    "train_size": "side in pixels of the square crops it was trained on",
    "size_multiple": "H and W of the inputs must be multiples of this",
    "uses_hints": "'true' if the network reads the hint input",
    "data": "what it was trained on",
    "license": "licence of the weights",
    "description": "one sentence for the model picker",
}
OPTIONAL_METADATA = {
    "line_width": "typical ink line width (pixels) of its training images at train_size",
    "steps": "optimiser steps trained",
    "images_seen": "training images seen",
}


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself (its ``metadata_props``)."""

    name: str
    variant: str
    train_size: int
    size_multiple: int
    uses_hints: bool
    data: str
    license: str
    description: str
    line_width: float | None = None
    steps: int | None = None
    images_seen: int | None = None
    contract_version: int = CONTRACT_VERSION
    extra: dict = field(default_factory=dict, compare=False)

    def to_props(self) -> dict[str, str]:
        """Metadata as the string map stored in the ONNX file."""
        props = {
            "contract_version": str(self.contract_version),
            "name": self.name,
            "variant": self.variant,
            "train_size": str(self.train_size),
            "size_multiple": str(self.size_multiple),
            "uses_hints": "true" if self.uses_hints else "false",
            "data": self.data,
            "license": self.license,
            "description": self.description,
        }
        for key in OPTIONAL_METADATA:
            value = getattr(self, key)
            if value is not None:
                props[key] = str(value)
        props.update({k: str(v) for k, v in self.extra.items()})
        return props

    @classmethod
    def from_props(cls, props: dict[str, str], source: str = "model") -> ModelInfo:
        """Parse and validate metadata; ``source`` names the file in error messages."""
        missing = [key for key in REQUIRED_METADATA if key not in props]
        if missing:
            raise ContractError(f"{source}: metadata is missing {', '.join(missing)} "
                                "(not a krita-deepcolor model, or exported by an old toolchain)")

        def number(key, kind, minimum):
            try:
                value = kind(props[key])
            except ValueError:
                raise ContractError(f"{source}: metadata {key}={props[key]!r} is not a number") from None
            if value < minimum:
                raise ContractError(f"{source}: metadata {key}={value} must be at least {minimum}")
            return value

        version = number("contract_version", int, 1)
        if version != CONTRACT_VERSION:
            raise ContractError(f"{source}: made for model contract {version}, this plugin "
                                f"reads contract {CONTRACT_VERSION}; update the plugin or re-export")
        if not props["variant"].strip() or "\n" in props["variant"]:
            raise ContractError(f"{source}: metadata variant must name the training recipe on one line")
        if props["uses_hints"] not in ("true", "false"):
            raise ContractError(f"{source}: metadata uses_hints must be 'true' or 'false'")
        known = set(REQUIRED_METADATA) | set(OPTIONAL_METADATA)
        return cls(
            name=props["name"],
            variant=props["variant"],
            train_size=number("train_size", int, 1),
            size_multiple=number("size_multiple", int, 1),
            uses_hints=props["uses_hints"] == "true",
            data=props["data"],
            license=props["license"],
            description=props["description"],
            line_width=number("line_width", float, 0) if "line_width" in props else None,
            steps=number("steps", int, 0) if "steps" in props else None,
            images_seen=number("images_seen", int, 0) if "images_seen" in props else None,
            contract_version=version,
            extra={k: v for k, v in props.items() if k not in known},
        )


def check_signature(inputs, outputs, source: str = "model") -> None:
    """Check the graph's tensors; ``inputs``/``outputs`` are (name, type, shape) triples.

    Shapes may hold symbolic (str/None) entries for dynamic axes; fixed channel
    counts must match the contract.
    """
    def check(kind, expected, actual):
        by_name = {name: (dtype, shape) for name, dtype, shape in actual}
        wanted = [name for name, _ in expected]
        if sorted(by_name) != sorted(wanted):
            raise ContractError(f"{source}: {kind}s are {sorted(by_name)}, the contract wants "
                                f"{wanted}")
        for name, channels in expected:
            dtype, shape = by_name[name]
            if dtype != ONNX_FLOAT:
                raise ContractError(f"{source}: {kind} '{name}' is {dtype}, must be float32")
            if len(shape) != TENSOR_RANK:
                raise ContractError(f"{source}: {kind} '{name}' has rank {len(shape)}, "
                                    f"must be [N,{channels},H,W]")
            if isinstance(shape[1], int) and shape[1] != channels:
                raise ContractError(f"{source}: {kind} '{name}' has {shape[1]} channels, "
                                    f"must have {channels}")

    check("input", INPUTS, inputs)
    check("output", OUTPUTS, outputs)
