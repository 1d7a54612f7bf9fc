"""fit()'s fast paths (fused Adam / SGD straight from autograd, one thread for small
models, preallocated shuffling) give the same training as the plain PyTorch loop."""
import torch

from playml.core.training import fit


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
