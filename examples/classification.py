"""Workflow (g): classification. Softmax regression and a small MLP on three interleaved spirals (accuracy
curves and decision regions; the MLP reaches >= 95% on held-out points), then d2l's LeNet-5 (sigmoid,
average pooling, cross-entropy) on Fashion-MNIST when its files are in $GDCORE_DATA_DIR or the cache
(or with --download), skipped with a note otherwise.

    python examples/classification.py --out out
"""
import argparse

from gdcore.workflows import classification as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plots (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer epochs, fewer Fashion-MNIST images")
    parser.add_argument("--download", action="store_true", help="download Fashion-MNIST when it is not found")
    parser.add_argument("--data", default=None, help="folder holding Fashion-MNIST (default: $GDCORE_DATA_DIR, "
                        "then the cache)")
    args = parser.parse_args(argv)
    results, notes = workflow.run(quick=args.quick, out=args.out, log=print, download=args.download,
                                  data_root=args.data)
    for result in results:
        print(result.report())
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
