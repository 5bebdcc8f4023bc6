"""The scores we report for a set of predictions, as one plain dict."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from .data import LABELS


def score(y_true, p_broadcast, threshold: float = 0.5) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, MCC, ROC-AUC, Brier and the confusion matrix.

    ``p_broadcast`` is the probability of the broadcast class; the Brier score
    and ROC-AUC are computed from it, the rest from the thresholded labels.
    """
    y_true = np.asarray(y_true, dtype=object)
    p = np.asarray(p_broadcast, dtype=float)
    y_pred = np.where(p >= threshold, LABELS[0], LABELS[1]).astype(object)
    truth = (y_true == LABELS[0]).astype(int)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    out = {
        "n": int(len(y_true)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, labels=list(LABELS), average="macro", zero_division=0)),
        "mcc": float(skm.matthews_corrcoef(y_true, y_pred)) if len(set(y_true)) > 1 else 0.0,
        "roc_auc": float(skm.roc_auc_score(truth, p)) if 0 < truth.sum() < len(truth) else None,
        "brier": float(skm.brier_score_loss(truth, p)),
        "per_class": {
            label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, label in enumerate(LABELS)
        },
        "confusion_matrix": {
            "labels": list(LABELS),
            "rows_true_cols_predicted": skm.confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
        },
        "threshold": threshold,
    }
    return out


def format_table(scores: dict, title: str) -> str:
    """A readable summary of :func:`score` output for the terminal."""
    lines = [f"{title} ({scores['n']} posts)"]
    auc = "n/a" if scores["roc_auc"] is None else f"{scores['roc_auc']:.3f}"
    lines.append(
        f"  accuracy {scores['accuracy']:.3f}   macro-F1 {scores['macro_f1']:.3f}   MCC {scores['mcc']:.3f}"
        f"   ROC-AUC {auc}   Brier {scores['brier']:.3f}"
    )
    lines.append(f"  {'class':<16}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}")
    for label, row in scores["per_class"].items():
        lines.append(
            f"  {label:<16}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10d}"
        )
    matrix = scores["confusion_matrix"]["rows_true_cols_predicted"]
    lines.append(f"  confusion (rows true, columns predicted): {'':>0}")
    lines.append(f"  {'':<16}{'broadcast':>16}{'conversational':>16}")
    for label, row in zip(LABELS, matrix):
        lines.append(f"  {label:<16}{row[0]:>16d}{row[1]:>16d}")
    return "\n".join(lines)
