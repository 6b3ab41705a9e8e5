"""The chapter's workflows (a)-(f), one module each, each with a ``run(...)`` that takes its settings, saves its
plots into ``out`` and returns a WorkflowResult. examples/*.py and ``gdcore demo`` both call these.

    (a) linear_regression_by_hand   (b) manual_updates        (c) custom_module
    (d) linear_sgd_save_load        (e) lenet                 (f) airfoil_minibatch_sgd
    (g) classification (softmax regression, an MLP, LeNet on Fashion-MNIST)
    (h) curvature_tools (the lr advisor, sharpness, the lr range test, the optimizer race)
"""
from .result import WorkflowResult

__all__ = ["WorkflowResult"]
