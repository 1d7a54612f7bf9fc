import numpy as np
import pytest
import torch

from playml.errors import DataError, InputError
from playml.core.training import History, fit, validation_indices


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0], [4, 4], [0, 4]], dtype=np.float32)
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.normal(0, 0.5, (n, 2)).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def _net(inputs=2, outputs=3):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(inputs, 16), torch.nn.ReLU(), torch.nn.Linear(16, outputs))


def test_fit_learns_blobs_and_records_history():
    x, y = _blobs()
    model = _net()
    h = fit(model, x, y, epochs=40, batch_size=16, learning_rate=0.01, validation_split=0.2, progress=False, seed=0)
    assert len(h) == 40
    assert set(h.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h["loss"][-1] < h["loss"][0]
    assert h["val_accuracy"][-1] >= 0.95
    assert "History(epochs=40" in repr(h)


def test_on_epoch_can_stop_early():
    x, y = _blobs()
    seen = []

    def cb(epoch, logs):
        seen.append((epoch, logs["loss"]))
        return epoch < 3

    h = fit(_net(), x, y, epochs=20, on_epoch=cb, progress=False)
    assert len(h) == 3 and h.stopped_early
    assert [e for e, _ in seen] == [1, 2, 3]


def test_regression_with_mse_and_l2():
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 2 * x - 1
    model = torch.nn.Linear(1, 1)
    h = fit(model, x, y, loss="mse", epochs=200, batch_size=16, learning_rate=0.05, l2=1e-4, progress=False, seed=0)
    assert "accuracy" not in h
    assert h["loss"][-1] < 1e-3


def test_stratified_validation_keeps_every_class():
    y = np.array([0] * 20 + [1] * 20 + [2] * 4)
    tr, va = validation_indices(y, len(y), 0.15, stratify=True, seed=1)
    assert set(y[va]) == {0, 1, 2}
    assert len(set(tr) & set(va)) == 0 and len(tr) + len(va) == len(y)


def test_bad_arguments_give_clear_errors():
    x, y = _blobs()
    with pytest.raises(InputError, match="epochs"):
        fit(_net(), x, y, epochs=0, progress=False)
    with pytest.raises(DataError, match="match"):
        fit(_net(), x, y[:5], progress=False)
    with pytest.raises(DataError, match="no training data"):
        fit(_net(), x[:0], y[:0], progress=False)
    with pytest.raises(InputError, match="optimizer"):
        fit(_net(), x, y, optimizer="adamax-nope", progress=False)


def test_divergence_is_reported():
    x = torch.randn(32, 2) * 1e20
    y = torch.randn(32, 1) * 1e20
    with pytest.raises(DataError, match="diverged"):
        fit(torch.nn.Linear(2, 1), x, y, loss="mse", epochs=5, learning_rate=10.0, progress=False)


def test_history_plot_returns_figure():
    fig = History(metrics={"loss": [1, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.5, 0.8]}).plot()
    assert len(fig.axes) == 2


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_fit_refuses_nan_or_infinity_in_inputs_or_targets(bad):
    x, y = _blobs()
    x_bad = x.clone()
    x_bad[7, 1] = bad
    with pytest.raises(DataError, match="inputs contain NaN or infinity"):
        fit(_net(), x_bad, y, epochs=1, progress=False)
    targets = x.clone()  # regression targets
    targets[3, 0] = bad
    with pytest.raises(DataError, match="targets contain NaN or infinity"):
        fit(_net(outputs=2), x, targets, loss="mse", epochs=1, progress=False)


def test_fit_accepts_huge_finite_numbers():
    """Numbers near float32's limit are finite: not refused as NaN or infinity."""
    x, y = _blobs()
    x[0, 0] = x[1, 0] = 3e38  # their float32 sum would overflow
    with pytest.raises(DataError, match="diverged"):  # accepted, then (of course) diverges
        fit(_net(), x, y, epochs=1, progress=False, learning_rate=1.0)
