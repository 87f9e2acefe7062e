"""Fitting the flood-first decision on collected units: thresholds that keep the promises, and
the measure of what guesses would do where no strokes were given."""

import numpy as np

from export import departures
from export.data.halves import half_of
from krita_deepcolor.engine.departures import FEATURES, KINDS

CLEAR, FILL = KINDS.index("clear"), KINDS.index("fill")


def tuning_ids(count: int, package: str = "pkg") -> list[str]:
    ids = [f"{package}-{n:08x}-384" for n in range(400)]
    return [i for i in ids if half_of(i) == "tuning"][:count]


def table(records: list[dict]) -> dict:
    """A collected table (as ``departures.load`` gives) from per-record dicts of units."""
    flat = {key: np.concatenate([np.asarray(r[key]) for r in records])
            for key in ("features", "kinds", "forbidden", "gains", "close_gains")}
    data = {"ids": np.array([r["id"] for r in records]), "regimes": np.array([r["regime"] for r in records]),
            "counts": np.array([len(r["kinds"]) for r in records]),
            "flood_sse": np.array([r["flood_sse"] for r in records], float),
            "pixels": np.array([r["pixels"] for r in records]),
            "hinted": np.array([r["hinted"] for r in records]),
            **flat}
    data["features"] = data["features"].reshape(-1, len(FEATURES)).astype(np.float32)
    data["record"] = np.repeat(np.arange(len(data["counts"])), data["counts"])
    return data


def units(sample_id: str, regime: str, kind: int, gains, close_gains, rng, hinted=True) -> dict:
    n = len(gains)
    return {"id": sample_id, "regime": regime, "features": rng.normal(size=(n, len(FEATURES))),
            "kinds": np.full(n, kind), "forbidden": np.zeros(n, bool), "gains": np.asarray(gains, float),
            "close_gains": np.asarray(close_gains, float), "flood_sse": 1000.0, "pixels": 10000,
            "hinted": hinted}


def test_thresholds_never_take_a_kind_that_puts_a_regime_below_the_flood():
    rng = np.random.default_rng(0)
    records = []
    for sample_id in tuning_ids(10):
        records.append(units(sample_id, "dense", FILL, [50.0] * 20, [5.0] * 20, rng))  # fills help
        records.append(units(sample_id, "sparse", CLEAR, [-80.0] * 20, [-5.0] * 20, rng))  # clears harm
    data = table(records)
    decision = departures.choose_thresholds(departures.train(data), data, np.ones(len(data["counts"]), bool))
    lead = departures.leads(data, decision)
    assert (lead[data["regimes"] == "dense"] > 0).all()  # the fills are taken
    assert (lead[data["regimes"] == "sparse"] == 0).all()  # the clears never
    assert departures.leads(data, None)[data["regimes"] == "sparse"].max() < 0  # as taking all would


def test_guesses_without_hints_weigh_packages_equally_and_leave_hinted_pictures_out():
    rng = np.random.default_rng(1)
    big, small = tuning_ids(9, "big"), tuning_ids(1, "small")
    records = [units(i, "none", FILL, [100.0] * 4, [-500.0] * 4, rng, hinted=False) for i in big]
    records += [units(i, "none", FILL, [0.0] * 4, [0.0] * 4, rng, hinted=False) for i in small]
    records += [units(i, "dense", FILL, [-900.0] * 4, [900.0] * 4, rng) for i in big]  # not counted
    data = table(records)
    lead, close = departures.guesses_without_hints(data, np.ones(len(data["counts"]), bool))
    # "big": 400 of 1000 squared error gone (+2.2 dB), 2000 of 10000 pixels lost; "small": level
    assert abs(lead - 10 * np.log10(1000 / 600) / 2) < 1e-6
    assert abs(close - (-0.2 / 2)) < 1e-9


def test_thresholds_keep_every_package_at_or_above_the_flood_in_every_regime():
    """A kind that lifts the mean over packages but puts one small package below the flood is
    taken only where it costs that package little: a package's deficit weighs ten times its
    size, as a regime's does."""
    rng = np.random.default_rng(2)
    records = [units(i, "dense", FILL, [20.0] * 10, [0.0] * 10, rng) for i in tuning_ids(6, "big")]
    records += [units(i, "dense", FILL, [-6.0] * 10, [0.0] * 10, rng) for i in tuning_ids(1, "small")]
    data = table(records)
    everything = np.ones(len(data["counts"]), bool)
    assert departures.summary(data, departures.leads(data, None), everything)[0] > 0  # the mean gains
    assert departures.worst_cell(data, departures.leads(data, None), everything) < 0  # "small" loses
    decision = departures.choose_thresholds(departures.train(data), data, everything)
    lead = departures.leads(data, decision)
    assert departures.worst_cell(data, lead, everything) > 0.2 * departures.worst_cell(
        data, departures.leads(data, None), everything)  # a fifth of the loss at most
    assert departures.summary(data, lead, everything)[0] > 0


def test_collect_records_every_regime_with_both_gains_and_whether_strokes_were_given(tmp_path):
    from tests import contract_models
    from tests.export.conftest import write_tiny_dataset

    data = write_tiny_dataset(tmp_path / "dataset", size=96, train_count=2, val_count=0)
    model = contract_models.build(tmp_path / "passthrough.onnx", strict=False)
    pairs = departures.pairs_of([data], "train", None)
    departures._open(str(model))
    records = departures.units_of(*pairs[0])
    regimes = [record["regime"] for record in records]
    assert {"dense", "sparse", "none", "gaps-dense", "gaps-sparse"} <= set(regimes)
    hinted = {record["regime"]: record["hinted"] for record in records}
    assert not hinted["none"] and not hinted["dht-0.00"] and hinted["dense"] and hinted["sparse"]
    for record in records:
        assert len(record["gains"]) == len(record["close_gains"]) == len(record["kinds"])
        # a unit holds at most its own pixels within dE10 more (or fewer)
        assert (np.abs(record["close_gains"]) <= record["pixels"]).all()
    out = tmp_path / "units.npz"
    departures.save(records, out)
    table = departures.load(out)
    assert len(table["hinted"]) == len(records) and len(table["close_gains"]) == len(table["kinds"])
