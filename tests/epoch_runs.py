"""Shared by the compiled-step tests: a training step run over a shuffled loader, eagerly (one
call a batch) or compiled (CompiledStep.run_epoch), with the bytes to compare the two by."""
import gdcore
from gdcore import optim
from gdcore.data import DataLoader, TensorDataset


def as_bytes(tensors):
    return [t.detach().numpy().tobytes() for t in tensors]


def lowered_program(step):
    """The program of a compiled step that has one capture."""
    (capture,) = step._captures.values()
    return capture.program


def epoch_losses(step, loader, compiled, epochs):
    """The losses of `epochs` passes of `step` over `loader` as one tensor, and the compiled step
    (None when eager)."""
    if compiled:
        run = gdcore.compile(step)
        return gdcore.cat([run.run_epoch(loader) for _ in range(epochs)], 0).detach(), run
    return gdcore.cat([step(xb, yb).reshape(1) for _ in range(epochs) for xb, yb in loader], 0).detach(), None


def shuffled_loader(X, y, dtype, batch_size, seed):
    return DataLoader(TensorDataset(gdcore.tensor(X).to(dtype), gdcore.tensor(y).to(dtype)),
                      batch_size=batch_size, shuffle=True, generator=gdcore.Generator(seed))


def regression_step(features, dtype, lr=0.01, zero_grad_after=True, **sgd_options):
    """(w, b, step): w and b zero, and a step of linear regression with half the squared error
    and plain SGD; with zero_grad_after False the step clears the gradients first, so that they
    are kept after it."""
    w = gdcore.zeros(features, dtype=dtype, requires_grad=True)
    b = gdcore.zeros(1, dtype=dtype, requires_grad=True)
    optimizer = optim.SGD([w, b], lr=lr, **sgd_options)

    def step(xb, yb):
        if not zero_grad_after:
            optimizer.zero_grad()
        loss = ((xb @ w + b - yb) ** 2 / 2).sum()
        loss.backward()
        optimizer.step()
        if zero_grad_after:
            optimizer.zero_grad()
        return loss
    return w, b, step


def regression_epochs(X, y, batch_size, compiled, dtype, epochs=2, seed=7, **sgd_options):
    """Linear regression by SGD (lr 0.01) over a shuffled loader: ((losses, [w, b]) as bytes, the
    compiled step or None)."""
    w, b, step = regression_step(X.shape[1], dtype, **sgd_options)
    losses, run = epoch_losses(step, shuffled_loader(X, y, dtype, batch_size, seed), compiled, epochs)
    return (losses.numpy().tobytes(), as_bytes([w, b])), run
