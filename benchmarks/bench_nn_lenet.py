"""Times one LeNet-5 training step (forward + backward) and the forward alone, with gdcore.nn.

Run: PYTHONPATH=python python benchmarks/bench_nn_lenet.py [--batch 64] [--repeat 20]
Prints milliseconds per call (median of the repeats); nothing is asserted.
"""
from __future__ import annotations

import argparse
import statistics
import time

import gdcore
import gdcore.nn.functional as F
from gdcore import nn


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


def median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    gdcore.manual_seed(0)
    net, loss_fn = LeNet(), nn.MSELoss()
    x, target = gdcore.randn(args.batch, 1, 32, 32), gdcore.randn(args.batch, 10)

    def train_step():
        net.zero_grad()
        loss_fn(net(x), target).backward()

    def forward():
        with gdcore.no_grad():
            net(x)

    print(f"LeNet-5, batch {args.batch}: forward+backward {median_ms(train_step, args.repeat):.2f} ms, "
          f"forward only {median_ms(forward, args.repeat):.2f} ms")


if __name__ == "__main__":
    main()
