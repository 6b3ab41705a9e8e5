"""Port tests: small programs written as public PyTorch tutorials and d2l chapters write them,
run on gdcore with only the import changed (``import gdcore as torch``). They use the device
idiom, ``Module.to(device)``, ``argmax(axis=1)``, ``nn.LazyLinear``, ``Module.apply`` and a
``DataLoader`` with ``num_workers=4``. Expected numbers come from numpy (a forward pass with
the trained weights, least squares) and from the same program with ``num_workers=0``.
"""
import numpy as np

import gdcore as torch
from gdcore import nn
from gdcore.utils import data


# ---- the PyTorch quickstart's shape: pick a device, move the model and every batch ----------

class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(2 * 2, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


class Blobs(data.Dataset):
    """Three classes of 2x2 'images', sample i of class i % 3 around a fixed centre."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.labels = np.arange(n) % 3
        centres = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]], dtype=np.float32)
        self.images = (centres[self.labels] + 0.3 * rng.standard_normal((n, 4))).astype(np.float32).reshape(n, 2, 2)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return torch.tensor(self.images[idx]), int(self.labels[idx])


def test_quickstart_style_training_on_the_chosen_device():
    device = (torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
              else "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu")
    assert device == "cpu"
    model = NeuralNetwork().to(device)
    loss_fn = lambda pred, y: nn.functional.mse_loss(pred, torch.eye(3)[y])  # noqa: E731  (one-hot targets)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train = data.DataLoader(Blobs(96, 0), batch_size=16, shuffle=True, num_workers=2)
    losses = []
    for _ in range(15):
        model.train()
        for X, y in train:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    assert losses[-1] < losses[0]
    test = Blobs(30, 1)
    model.eval()
    with torch.no_grad():
        X = torch.tensor(test.images).to(device)
        pred = model(X)
    # the same forward pass in numpy, with the trained weights
    w1, b1, w2, b2 = (p.detach().cpu().numpy() for p in model.parameters())
    hidden = np.maximum(test.images.reshape(30, 4) @ w1.T + b1, 0)
    np.testing.assert_allclose(pred.numpy(), hidden @ w2.T + b2, rtol=1e-4, atol=1e-5)
    predicted = pred.argmax(axis=1).numpy()
    assert (predicted == test.labels).mean() > 0.9
    assert pred.device == torch.device("cpu") and pred.device.type == device


# ---- d2l's concise linear regression, with a Python Dataset and num_workers=4 ------------------

class SyntheticRegression(data.Dataset):
    """d2l's synthetic_data: y = X w + b + noise, drawn once with numpy."""

    def __init__(self, w, b, n, seed):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((n, len(w))).astype(np.float32)
        self.y = (self.X @ w + b + 0.01 * rng.standard_normal(n)).astype(np.float32).reshape(-1, 1)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return torch.tensor(self.X[i]), torch.tensor(self.y[i])


def _train_d2l(num_workers):
    torch.manual_seed(42)
    ds = SyntheticRegression(np.array([2.0, -3.4]), 4.2, 1000, seed=3)
    net = nn.Sequential(nn.LazyLinear(1))
    net(torch.zeros(1, 2))  # d2l's apply_init: one dummy batch materialises the lazy layer

    def init_weights(module):
        if type(module) is nn.Linear:
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)

    net.apply(init_weights)
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    loader = data.DataLoader(ds, batch_size=10, shuffle=True, num_workers=num_workers)
    for _ in range(3):
        for X, y in loader:
            loss = ((net(X) - y) ** 2).mean(axis=0, keepdims=True).sum()
            trainer.zero_grad()
            loss.backward()
            trainer.step()
    return ds, net[0].weight.detach().numpy().copy(), net[0].bias.detach().numpy().copy()


def test_d2l_linear_regression_with_four_workers():
    ds, w, b = _train_d2l(num_workers=4)
    design = np.hstack([ds.X, np.ones((len(ds.X), 1), np.float32)])
    solution = np.linalg.lstsq(design, ds.y[:, 0], rcond=None)[0]  # the least-squares fit
    np.testing.assert_allclose(w[0], solution[:2], atol=5e-3)
    np.testing.assert_allclose(b, solution[2:], atol=5e-3)
    _, w0, b0 = _train_d2l(num_workers=0)
    np.testing.assert_array_equal(w, w0)  # the same batches in the same order: the same training run
    np.testing.assert_array_equal(b, b0)
