"""One home per variant: each variant class says what it is, and the command line and the config
checks agree with the classes (the model contract names no variant: the engine runs any)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from export.config import TrainConfig, build_parser  # noqa: E402
from export.errors import ConfigError  # noqa: E402
from export.variants import VARIANT_CLASSES  # noqa: E402


def test_the_command_line_offers_every_variant_and_hint_kind_of_the_classes():
    actions = {action.dest: action for action in build_parser()._actions}
    assert tuple(actions["variant"].choices) == tuple(VARIANT_CLASSES)
    kinds = {kind for variant in VARIANT_CLASSES.values() for kind in variant.hints}
    assert set(actions["hints"].choices) == kinds


@pytest.mark.parametrize("name", list(VARIANT_CLASSES))
def test_a_config_takes_the_defaults_and_the_limits_its_class_declares(name):
    variant = VARIANT_CLASSES[name]
    config = TrainConfig(variant=name, run="x")
    assert {key: getattr(config, key) for key in variant.defaults} == variant.defaults
    assert config.hints == variant.hints[0]
    for kind in {"strokes", "deepcolor", "none"} - set(variant.hints):
        with pytest.raises(ConfigError, match=f"--hints {kind} does not fit {name}"):
            TrainConfig(variant=name, run="x", hints=kind)
    if variant.gan:
        assert TrainConfig(variant=name, run="x", gan_weight=1.0).uses_gan
    else:
        with pytest.raises(ConfigError, match="--gan-weight applies to"):
            TrainConfig(variant=name, run="x", gan_weight=1.0)
    if not variant.propagation:
        with pytest.raises(ConfigError, match="--propagation applies to"):
            TrainConfig(variant=name, run="x", propagation="flood")
