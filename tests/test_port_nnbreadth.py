"""Port tests of issue 11's breadth round (nn, data and top-level utilities): small programs in the style
of PyTorch tutorials and course notebooks, run on gdcore with only the import changed. They use
random_split, WeightedRandomSampler, an IterableDataset, ModuleDict/ParameterList, the new
activations, F.one_hot / F.normalize / F.pad, Conv1d and MaxPool1d, OneCycleLR, ReduceLROnPlateau,
inference_mode, set_default_dtype, finfo and testing.assert_close. Expected numbers come from numpy
(forward passes with the trained weights, least squares)."""
import numpy as np

import gdcore as torch
import gdcore.nn.functional as F
from gdcore import nn
from gdcore.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau
from gdcore.utils.data import DataLoader, IterableDataset, TensorDataset, WeightedRandomSampler, random_split


# ---- a classifier with a dict of heads, trained with 1cycle, checked against a numpy forward pass ------------

class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 16), nn.Hardswish(), nn.Linear(16, 16), nn.Mish())
        self.heads = nn.ModuleDict({"cls": nn.Linear(16, 3), "aux": nn.Linear(16, 1)})
        self.temperature = nn.ParameterList([nn.Parameter(torch.ones(1))])

    def forward(self, x):
        h = self.body(F.normalize(x, dim=1))
        return self.heads["cls"](h) / self.temperature[0], self.heads["aux"](h)


def _numpy_forward(model, x):
    def lin(layer, v):
        return v @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()

    def softplus(v):
        return np.logaddexp(0, v)

    v = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    v = lin(model.body[0], v)
    v = v * np.clip(v + 3, 0, 6) / 6
    v = lin(model.body[2], v)
    v = v * np.tanh(softplus(v))
    return lin(model.heads["cls"], v) / model.temperature[0].item()


def test_one_cycle_classifier_with_a_weighted_sampler():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 300)
    X = np.stack([np.cos(angles), np.sin(angles)], 1) * rng.uniform(0.5, 2.0, (300, 1))
    y = (angles // (2 * np.pi / 3)).astype(np.int64)
    dataset = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y))
    train_set, val_set = random_split(dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
    assert (len(train_set), len(val_set)) == (240, 60)
    counts = np.bincount(y[train_set.indices], minlength=3)
    weights = [1.0 / counts[y[i]] for i in train_set.indices]  # class-balanced sampling
    loader = DataLoader(train_set, batch_size=32, sampler=WeightedRandomSampler(weights, len(weights)))
    model = TwoHeads()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    epochs = 25
    scheduler = OneCycleLR(optimizer, max_lr=0.02, epochs=epochs, steps_per_epoch=len(loader))  # cycles Adam's beta1
    for epoch in range(epochs):
        model.train()
        for xb, yb in loader:
            logits, aux = model(xb)
            target = F.one_hot(yb, num_classes=3).float()
            loss = F.cross_entropy(logits, yb) + 0.01 * F.mse_loss(aux.squeeze(1), target.sum(1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    model.eval()
    xv = torch.stack([val_set[i][0] for i in range(len(val_set))])
    yv = torch.stack([val_set[i][1] for i in range(len(val_set))])
    with torch.inference_mode():
        logits, _ = model(xv)
        assert not logits.requires_grad and torch.is_inference_mode_enabled()
    accuracy = (logits.argmax(dim=1) == yv).float().mean().item()
    assert accuracy > 0.9
    torch.testing.assert_close(logits, torch.tensor(_numpy_forward(model, xv.numpy()), dtype=torch.float32),
                               rtol=1e-4, atol=1e-5)
    assert list(model.state_dict())[-5:] == ["heads.cls.weight", "heads.cls.bias", "heads.aux.weight",
                                             "heads.aux.bias", "temperature.0"]


# ---- a 1-d CNN on sequences, in float64 by default, with ReduceLROnPlateau on the validation loss ---------------

def test_conv1d_sequence_model_in_float64():
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(1)
        rng = np.random.default_rng(1)
        n, length = 128, 16
        X = rng.normal(size=(n, 1, length))
        y = (X[:, 0, :-1] * X[:, 0, 1:]).sum(1) > 0  # does the sequence mostly keep its sign?
        model = nn.Sequential(nn.Conv1d(1, 8, kernel_size=3, padding=1), nn.SELU(), nn.MaxPool1d(2),
                              nn.Conv1d(8, 8, kernel_size=3), nn.ReLU6(), nn.Flatten(), nn.Linear(8 * 6, 1))
        assert model[0].weight.dtype == torch.float64
        xb = torch.tensor(X)  # Python-float data: the default dtype
        yb = torch.tensor(y.astype(np.float64)).unsqueeze(1)
        assert xb.dtype == torch.float64
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        plateau = ReduceLROnPlateau(optimizer, patience=3, factor=0.5)
        for _ in range(60):
            loss = F.binary_cross_entropy_with_logits(model(F.pad(xb, (0, 0))), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            plateau.step(loss.item())
        assert loss.item() < 0.5
        # the first conv layer against a numpy loop
        w, b = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
        xp = np.pad(X, ((0, 0), (0, 0), (1, 1)))
        expected = np.stack([np.einsum("nck,ock->no", xp[:, :, i:i + 3], w) for i in range(length)], 2) + b[:, None]
        torch.testing.assert_close(model[0](xb), torch.tensor(expected))
        assert torch.finfo(torch.get_default_dtype()).eps == 2.0 ** -52
    finally:
        torch.set_default_dtype(torch.float32)


# ---- streaming a regression through an IterableDataset, against least squares ---------------------------------

class Stream(IterableDataset):
    def __init__(self, X, y, chunk):
        self.X, self.y, self.chunk = X, y, chunk

    def __iter__(self):
        for start in range(0, len(self.y), self.chunk):
            for i in range(start, min(start + self.chunk, len(self.y))):
                yield torch.tensor(self.X[i]), torch.tensor(self.y[i])


def test_iterable_dataset_regression_matches_least_squares():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.01 * rng.normal(size=200)).astype(np.float32)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(30):
        for xb, yb in DataLoader(Stream(X, y, chunk=50), batch_size=20):
            loss = F.mse_loss(model(xb).squeeze(1), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    A = np.hstack([X, np.ones((200, 1), np.float32)])
    coef = np.linalg.lstsq(A.astype(np.float64), y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(model.weight.detach().numpy()[0], coef[:3], atol=5e-3)
    np.testing.assert_allclose(model.bias.item(), coef[3], atol=5e-3)
