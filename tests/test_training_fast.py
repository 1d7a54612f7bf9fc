"""fit()'s fast paths (fused Adam / SGD straight from autograd, one thread for small
models, preallocated shuffling) give the same training as the plain PyTorch loop."""
import math

import pytest
import torch

from playml.core import training
from playml.core.threads import torch_threads
from playml.core.training import fit


@pytest.fixture(autouse=True)
def _one_thread():
    """The reference loops here are tiny: on a shared machine several threads only wait for each other."""
    with torch_threads(1):
        yield


def test_torch_threads_restores_the_count_it_found():
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
        with pytest.raises(ZeroDivisionError), torch_threads(1):
            assert torch.get_num_threads() == 1
            1 / 0
        assert torch.get_num_threads() == before + 1   # restored on the way out of an error too
    assert torch.get_num_threads() == before


def _data(n=90, d=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, d, generator=g) + 2.0 * torch.nn.functional.one_hot(y, d).float()
    return x, y


def _net(d=20):
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def _plain_loop(model, opt, x, y, epochs, batch_size, seed):
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for s in range(0, len(x), batch_size):
            idx = order[s:s + batch_size]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def test_named_adam_and_sgd_match_torch_optim_step_for_step():
    x, y = _data()
    for name, make in (("adam", lambda p: torch.optim.Adam(p, lr=0.01)),
                       ("sgd", lambda p: torch.optim.SGD(p, lr=0.1))):
        fast = _net()
        torch.manual_seed(7)  # fit seeds torch itself; the plain loop uses the same generator seed
        fit(fast, x, y, optimizer=name, learning_rate=0.01 if name == "adam" else 0.1, epochs=6,
            batch_size=16, seed=3, progress=False)
        slow = _net()
        _plain_loop(slow, make(slow.parameters()), x, y, epochs=6, batch_size=16, seed=3)
        for a, b in zip(fast.parameters(), slow.parameters()):
            assert torch.allclose(a, b, atol=1e-5), name


def test_history_metrics_match_a_recount_and_threads_are_restored():
    x, y = _data()
    model = _net()
    torch.set_num_threads(2)  # fit trains this tiny model on one thread, then gives both back
    before = torch.get_num_threads()
    h = fit(model, x, y, epochs=3, batch_size=7, learning_rate=0.01, progress=False, seed=0)
    assert torch.get_num_threads() == before
    assert 0.0 <= h["accuracy"][-1] <= 1.0 and len(h["loss"]) == 3
    # a frozen layer stays as it was, and an optimizer object still works
    frozen = _net()
    frozen[0].weight.requires_grad_(False)
    w0 = frozen[0].weight.clone()
    fit(frozen, x, y, epochs=2, progress=False)
    assert torch.equal(frozen[0].weight, w0)
    other = _net()
    h2 = fit(other, x, y, epochs=2, optimizer=torch.optim.RMSprop(other.parameters(), lr=0.01), progress=False)
    assert len(h2) == 2


# --------------------------------------------------------------------------- the dense path
# fit() trains plain Linear/activation stacks by hand (no autograd graph). These pin that it
# gives the History and weights of the textbook autograd loop, for the learners' set-ups.


def _textbook(model, x, y, *, loss, epochs, batch_size, lr, optimizer, seed, xv=None, yv=None, l2=0.0):
    """The plain loop (autograd, torch.optim) with fit's shuffles, recording fit's metrics."""
    F = torch.nn.functional
    loss_fn = F.cross_entropy if loss == "categorical_crossentropy" else F.mse_loss
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    torch.manual_seed(seed)  # as fit does: dropout draws from torch's own generator
    gen = torch.Generator().manual_seed(seed)
    metrics = {}
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total, correct = 0.0, 0
        for s in range(0, len(x), batch_size):
            idx = order[s:s + batch_size]
            out = model(x[idx])
            batch_loss = loss_fn(out, y[idx])
            reg = batch_loss + l2 * sum((p * p).sum() for p in model.parameters() if p.dim() > 1)
            opt.zero_grad()
            reg.backward()
            opt.step()
            total += float(batch_loss.detach()) * len(idx)
            if loss == "categorical_crossentropy":
                correct += int((out.argmax(1) == y[idx]).sum())
        metrics.setdefault("loss", []).append(total / len(x))
        if loss == "categorical_crossentropy":
            metrics.setdefault("accuracy", []).append(correct / len(x))
        if xv is not None:
            model.eval()
            with torch.no_grad():
                out = model(xv)
                metrics.setdefault("val_loss", []).append(float(loss_fn(out, yv)))
                if loss == "categorical_crossentropy":
                    metrics.setdefault("val_accuracy", []).append(float((out.argmax(1) == yv).float().mean()))
    return metrics


def _stack(sizes, act, last=None, seed=1):
    torch.manual_seed(seed)
    mods = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            mods.append(act())
        elif last is not None:
            mods.append(last())
    return torch.nn.Sequential(*mods)


class _Standardize(torch.nn.Module):
    """Like the sound classifier's first module: marked as a fixed transform of the inputs."""

    fixed_transform = True

    def __init__(self, d):
        super().__init__()
        self.register_buffer("mean", torch.linspace(-0.5, 0.5, d))
        self.register_buffer("std", torch.linspace(0.5, 2.0, d))

    def forward(self, x):
        return (x - self.mean) / self.std


@pytest.mark.parametrize("case", ["teach head, adam", "ml5 dense, sgd", "autoencoder, mse + sigmoid, l2",
                                  "sound head: standardise, dropout", "dropout after tanh, sgd"])
def test_dense_path_gives_the_textbook_history(case):
    x, y = _data(n=203, d=20)   # 203: the last batch is a short one
    xv, yv = _data(n=40, d=20, seed=5)
    if case == "teach head, adam":
        kw = dict(loss="categorical_crossentropy", optimizer="adam", lr=0.01, batch_size=16)
        make, target, vtarget = (lambda: _stack([20, 32, 3], torch.nn.ReLU)), y, yv
    elif case == "ml5 dense, sgd":
        kw = dict(loss="categorical_crossentropy", optimizer="sgd", lr=0.2, batch_size=16)
        make, target, vtarget = (lambda: _stack([20, 16, 8, 3], torch.nn.Tanh)), y, yv
    elif case.startswith("sound"):
        kw = dict(loss="categorical_crossentropy", optimizer="adam", lr=0.01, batch_size=16)
        target, vtarget = y, yv

        def make():
            torch.manual_seed(1)
            return torch.nn.Sequential(_Standardize(20), torch.nn.Linear(20, 32), torch.nn.ReLU(),
                                       torch.nn.Dropout(0.25), torch.nn.Linear(32, 3))
    elif case.startswith("dropout"):
        kw = dict(loss="categorical_crossentropy", optimizer="sgd", lr=0.2, batch_size=16)
        target, vtarget = y, yv

        def make():
            torch.manual_seed(1)
            return torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.Tanh(), torch.nn.Dropout(0.4),
                                       torch.nn.Linear(16, 8), torch.nn.Sigmoid(), torch.nn.Dropout(0.1),
                                       torch.nn.Linear(8, 3))
    else:
        kw = dict(loss="mse", optimizer="adam", lr=0.01, batch_size=64)
        x, xv = torch.sigmoid(x), torch.sigmoid(xv)
        make = lambda: torch.nn.Sequential(_stack([20, 7, 2], torch.nn.ReLU),  # noqa: E731
                                           _stack([2, 7, 20], torch.nn.ReLU, last=torch.nn.Sigmoid))
        target, vtarget = x, xv
    l2 = 0.001 if "l2" in case else 0.0
    fast = make()
    compiled, _, _ = training._DenseStack.compile_with_transform(fast, kw["loss"], x, target, xv, kw["batch_size"], 0, l2)
    assert compiled is not None
    h = fit(fast, x, target, loss=kw["loss"], optimizer=kw["optimizer"], learning_rate=kw["lr"], epochs=12,
            batch_size=kw["batch_size"], validation_data=(xv, vtarget), l2=l2, seed=4, progress=False)
    slow = make()
    want = _textbook(slow, x, target, loss=kw["loss"], epochs=12, batch_size=kw["batch_size"], lr=kw["lr"],
                     optimizer=kw["optimizer"], seed=4, xv=xv, yv=vtarget, l2=l2)
    assert set(h.metrics) == set(want)
    for key, values in want.items():
        assert h[key] == pytest.approx(values, rel=1e-4, abs=1e-6), key
    for a, b in zip(fast.parameters(), slow.parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    # the same seed gives the same History again
    again = fit(make(), x, target, loss=kw["loss"], optimizer=kw["optimizer"], learning_rate=kw["lr"], epochs=12,
                batch_size=kw["batch_size"], validation_data=(xv, vtarget), l2=l2, seed=4, progress=False)
    assert again.metrics == h.metrics


def test_other_models_and_losses_still_train_through_autograd():
    x, y = _data()
    drop = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    assert training._DenseStack.compile(drop, "categorical_crossentropy", x, y, 16, 0, 0) is None  # on the inputs
    out_drop = torch.nn.Sequential(torch.nn.Linear(20, 3), torch.nn.Dropout(0.3))
    assert training._DenseStack.compile(out_drop, "categorical_crossentropy", x, y, 16, 0, 0) is None
    unmarked = torch.nn.Sequential(torch.nn.LayerNorm(20, elementwise_affine=False), torch.nn.Linear(20, 3))
    unmarked[0].fixed_transform = True  # on the object, not its class: not trusted
    assert training._DenseStack.compile_with_transform(unmarked, "categorical_crossentropy", x, y, None, 16, 0, 0)[0] \
        is None
    assert training._DenseStack.compile_with_transform(
        torch.nn.Sequential(torch.nn.LayerNorm(20), torch.nn.Linear(20, 3)), "categorical_crossentropy", x, y, None, 16,
        0, 0)[0] is None
    assert training._DenseStack.compile(_net(), "mae", x, y.float()[:, None], 16, 0, 0) is None
    hooked = _net()
    hooked[0].register_forward_hook(lambda m, i, o: None)
    assert training._DenseStack.compile(hooked, "categorical_crossentropy", x, y, 16, 0, 0) is None
    h = fit(drop, x, y, epochs=3, progress=False, seed=0)
    assert len(h) == 3 and all(math.isfinite(v) for v in h["loss"])


def test_forward_of_matches_the_model_and_follows_its_weights():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3),
                                torch.nn.Softmax(dim=-1)).eval()
    x = torch.randn(50, 20)
    fwd = training.forward_of(model)
    assert isinstance(fwd, training.DenseForward)
    with torch.no_grad():
        assert torch.allclose(fwd(x), model(x), atol=1e-6)
        model[0].weight.mul_(2.0)  # changed in place: seen
        assert torch.allclose(training.forward_of(model)(x), model(x), atol=1e-6)
    model[2].weight = torch.nn.Parameter(torch.randn(3, 16))  # replaced: seen
    with torch.no_grad():
        assert torch.allclose(training.forward_of(model)(x), model(x), atol=1e-6)
    conv = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3), torch.nn.Flatten())
    assert not isinstance(training.forward_of(conv), training.DenseForward)
    with torch.no_grad():
        assert torch.equal(training.forward_of(conv)(torch.ones(4, 1, 8)), conv(torch.ones(4, 1, 8)))


@pytest.mark.parametrize("case", ["teach head, adam", "network, sgd"])
def test_two_threads_give_the_same_history_as_one(monkeypatch, case):
    """When a second core is idle fit trains a big enough dense model's big weights as
    inputs-major copies and may run its steps on two threads (_ThreadChooser); on a busy machine
    it trains them in place on one thread. The History, the model seen by on_epoch after each
    epoch, and the final weights must not depend on that choice."""
    x, y = _data(n=203, d=640)
    xv, yv = _data(n=40, d=640, seed=5)
    make = (lambda: _stack([640, 128, 3], torch.nn.ReLU)) if case.startswith("teach") else (
        lambda: _stack([640, 128, 16, 3], torch.nn.Tanh))
    kw = dict(optimizer="adam", learning_rate=0.01) if "adam" in case else dict(optimizer="sgd", learning_rate=0.1)

    def train(force_two: bool):
        torch.set_num_threads(2)
        if force_two:  # a core is idle, the second thread is always found faster, and never dropped
            monkeypatch.setattr(training, "_others_running", lambda: 0)
            monkeypatch.setattr(training._ThreadChooser, "WIN", math.inf)
            monkeypatch.setattr(training._ThreadChooser, "_fail", lambda self: None)
        else:  # every core busy: in place, one thread
            monkeypatch.setattr(training, "_others_running", lambda: 99)
        model = make()
        seen = []

        def on_epoch(epoch, logs):
            with torch.no_grad():
                seen.append(model(xv[:5]).clone())

        h = fit(model, x, y, epochs=6, batch_size=16, validation_data=(xv, yv), seed=2, progress=False,
                on_epoch=on_epoch, **kw)
        monkeypatch.undo()
        assert torch.get_num_threads() == 2
        return h, model, seen

    one, m1, seen1 = train(False)
    two, m2, seen2 = train(True)
    assert one._threads_used is None and two._threads_used == [1, 2]
    # the layouts sum the products' terms in other orders: the last float bits differ
    for key, values in one.metrics.items():
        assert two[key] == pytest.approx(values, rel=1e-4, abs=1e-6), key
    for a, b in zip(seen1, seen2):  # on_epoch sees the weights trained so far
        assert torch.allclose(a, b, rtol=1e-4, atol=3e-4)
    assert not torch.allclose(seen2[0], seen2[-1])
    for a, b in zip(m1.parameters(), m2.parameters()):  # Adam moves a weight whose gradient is ~0 by
        assert float((a - b).detach().norm() / a.detach().norm()) < 1e-3  # ±lr on a rounding bit: as a whole
        assert a.is_contiguous() and b.is_contiguous()


def test_weights_trained_on_copies_reach_the_model_when_training_stops(monkeypatch):
    """A big weight trained as an inputs-major copy is copied back when on_epoch stops the
    training early and when an error interrupts it: the model has the last epoch's weights."""
    monkeypatch.setattr(training, "_others_running", lambda: 0)
    x, y = _data(n=203, d=640)
    torch.set_num_threads(2)
    model = _stack([640, 128, 3], torch.nn.ReLU)
    before = [p.detach().clone() for p in model.parameters()]
    after_epoch = []

    def stop(epoch, logs):
        after_epoch.append([p.detach().clone() for p in model.parameters()])
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(model, x, y, epochs=5, batch_size=16, seed=1, progress=False, on_epoch=stop)
    assert len(after_epoch) == 2
    for p, b, seen in zip(model.parameters(), before, after_epoch[-1]):
        assert torch.equal(p, seen) and not torch.equal(p, b)
    model2 = _stack([640, 128, 3], torch.nn.ReLU)
    h = fit(model2, x, y, epochs=5, batch_size=16, seed=1, progress=False, on_epoch=lambda e, logs: e < 2)
    assert h.epochs == 2 and h.stopped_early
    for p, seen in zip(model2.parameters(), after_epoch[-1]):  # the same two epochs as above
        assert torch.allclose(p, seen, rtol=1e-5, atol=1e-7)
