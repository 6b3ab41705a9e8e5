"""Targets 2 and 4: LeNet-5 training steps and the scalar Value API against micrograd.

- LeNet-5 (two 5x5 convolutions with max pooling, three linear layers) on 32x32 inputs,
  one SGD step with MSELoss against random targets at batch 64 and at batch 1: the same
  module code builds the gdcore and the torch network (their nn APIs match).
- The d2l book's LeNet (chapter "Convolutional Neural Networks (LeNet)"): 28x28 inputs,
  the first convolution padded by 2, sigmoid activations, 2x2 average pooling, trained with
  cross_entropy and SGD(lr=0.9) on Fashion-MNIST-sized batches of 256 (random images and
  labels here: the time does not depend on the values). The chapter trains on one thread;
  run with `--threads 1 --torch-threads 1` and OPENBLAS_NUM_THREADS=1 for that figure.
- A 3-16-16-1 ReLU MLP of scalar Values (micrograd's nn.MLP layout) on 20 samples: one
  step is the forward over all samples, the summed squared error, zero_grad, backward and
  the update of every parameter. The same code runs on gdcore.Value and micrograd's Value.
  A third row runs the same Python (generators, zip, sum, one loop over the parameters for
  the reset and one for the update) on plain floats with no autograd: the floor that the
  Python of the step alone costs, which no Value class can beat.
"""
from __future__ import annotations

import random
from typing import List

import gdcore

from .report import COMPILED
from .workload import Workload


def lenet(lib):
    """LeNet-5 built from `lib.nn` (gdcore.nn or torch.nn)."""
    nn = lib.nn
    F = nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = F.relu(self.fc1(x.flatten(1)))
            return self.fc3(F.relu(self.fc2(x)))

    return LeNet()


def d2l_lenet(lib):
    """The d2l book's LeNet from `lib.nn`: sigmoid and average pooling, 28x28 inputs."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
                         nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
                         nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                         nn.Linear(84, 10))


def d2l_lenet_workload(torch, compiled_impl=True) -> Workload:
    """train.lenet_d2l_b256: one SGD step of the d2l LeNet on a batch of 256 (cross_entropy)."""
    def framework(lib, compiled=False):
        def setup():
            lib.manual_seed(0)
            net = d2l_lenet(lib)
            loss_fn, optimizer = lib.nn.CrossEntropyLoss(), lib.optim.SGD(net.parameters(), lr=0.9)
            x, labels = lib.randn(256, 1, 28, 28), lib.randint(0, 10, (256,))

            def step(x, labels):
                optimizer.zero_grad()
                loss = loss_fn(net(x), labels)
                loss.backward()
                optimizer.step()
                return loss
            if compiled:
                step = lib.compile(step)
            return lambda: step(x, labels)
        return setup

    impls = {"gdcore": framework(gdcore)}
    if compiled_impl:
        impls[COMPILED] = framework(gdcore, compiled=True)
    if torch:
        impls["torch"] = framework(torch)
    return Workload("train.lenet_d2l_b256", "d2l LeNet step, batch 256 (CE + SGD)", impls)


def lenet_workloads(anchors) -> List[Workload]:
    torch = anchors.get("torch")

    def framework(lib, batch, compiled=False):
        def setup():
            lib.manual_seed(0)
            net = lenet(lib)
            loss_fn, optimizer = lib.nn.MSELoss(), lib.optim.SGD(net.parameters(), lr=0.01)
            x, target = lib.randn(batch, 1, 32, 32), lib.randn(batch, 10)

            def step(x, target):
                optimizer.zero_grad()
                loss = loss_fn(net(x), target)
                loss.backward()
                optimizer.step()
                return loss
            if compiled:
                step = lib.compile(step)
            return lambda: step(x, target)
        return setup

    out = []
    for batch in (64, 1):
        impls = {"gdcore": framework(gdcore, batch), COMPILED: framework(gdcore, batch, compiled=True)}
        if torch:
            impls["torch"] = framework(torch, batch)
        out.append(Workload(f"train.lenet_b{batch}", f"LeNet-5 step, batch {batch} (MSELoss + SGD)", impls))
    out.append(d2l_lenet_workload(torch))
    return out


class Neuron:
    def __init__(self, value, nin, nonlin):
        self.w = [value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class FloatNeuron(Neuron):
    """Neuron's code on plain floats: relu as max(act, 0.0), a builtin call where a Value makes a method call."""

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return max(act, 0.0) if self.nonlin else act


class MLP:
    """micrograd's nn.MLP layout over any Value class: ReLU hidden layers, a linear output."""

    def __init__(self, value, nin, nouts, neuron=Neuron):
        sizes = [nin] + nouts
        self.layers = [[neuron(value, sizes[i], i != len(nouts) - 1) for _ in range(sizes[i + 1])]
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


def value_mlp(anchors) -> Workload:
    rng = random.Random(0)
    xs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(20)]
    ys = [rng.choice([-1.0, 1.0]) for _ in range(20)]

    def setup_with(value_class):
        def setup():
            value = value_class()  # looked up here: building the workload imports neither library
            random.seed(0)
            model = MLP(value, 3, [16, 16, 1])
            params = model.parameters()

            def step():
                loss = sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), value(0.0))
                for p in params:
                    p.grad = 0.0
                loss.backward()
                for p in params:
                    p.data -= 0.01 * p.grad
                return loss
            return step
        return setup

    impls = {"gdcore": setup_with(lambda: gdcore.Value)}
    micrograd = anchors.get("micrograd")
    if micrograd:
        from micrograd.engine import Value as MicroValue
        impls["micrograd"] = setup_with(lambda: MicroValue)
    impls["python floats"] = python_float_floor(xs, ys)
    return Workload("train.value_mlp", "Value MLP 3-16-16-1 step on 20 samples", impls,
                    notes=["'python floats' runs the step's Python on floats without autograd "
                           "(same MLP code, loss, a reset and an update loop over the parameters): a floor, not an anchor"])


def python_float_floor(xs, ys):
    """The Value MLP step's Python on plain floats: the same MLP and Neuron code (generators,
    zip, sum), the same loss, then two loops over the 353 parameters shaped like the reset and
    the update; no gradients are computed."""
    def setup():
        random.seed(0)
        model = MLP(float, 3, [16, 16, 1], neuron=FloatNeuron)
        params = model.parameters()
        grads = [0.0] * len(params)

        def step():
            loss = sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), 0.0)
            for i in range(len(grads)):
                grads[i] = 0.0
            for i in range(len(params)):
                params[i] -= 0.01 * grads[i]
            return loss
        return step
    return setup
