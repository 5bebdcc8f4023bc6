"""The scores we report for a set of predictions, as one plain dict (numpy only, so evaluating starts fast)."""

from __future__ import annotations

import numpy as np

from .data import LABELS


def _roc_auc(truth: np.ndarray, p: np.ndarray) -> float:
    """The Mann-Whitney statistic: the chance a random positive scores above a random negative (ties half)."""
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), dtype=float)
    sorted_p = p[order]
    # average ranks over ties
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_p)) + 1]
    ends = np.r_[starts[1:], len(p)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    return float((ranks[truth == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _mcc(matrix: np.ndarray) -> float:
    """Matthews correlation coefficient of a 2x2 confusion matrix (0 when undefined)."""
    (tp, fn), (fp, tn) = matrix.astype(float)
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denominator) if denominator else 0.0


def score(y_true, p_broadcast, threshold: float = 0.5) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, MCC, ROC-AUC, Brier and the confusion matrix.

    ``p_broadcast`` is the probability of the broadcast class; the Brier score
    and ROC-AUC are computed from it, the rest from the thresholded labels.
    The figures equal scikit-learn's (a test checks them against ``sklearn.metrics``).
    """
    y_true = np.asarray(y_true, dtype=object)
    p = np.asarray(p_broadcast, dtype=float)
    truth = (y_true == LABELS[0]).astype(int)
    predicted = (p >= threshold).astype(int)
    tp = int(np.sum((truth == 1) & (predicted == 1)))
    fn = int(np.sum((truth == 1) & (predicted == 0)))
    fp = int(np.sum((truth == 0) & (predicted == 1)))
    tn = int(np.sum((truth == 0) & (predicted == 0)))
    matrix = np.array([[tp, fn], [fp, tn]])  # rows true, columns predicted, in LABELS order
    per_class = {}
    for i, label in enumerate(LABELS):
        hit, support, claimed = matrix[i, i], matrix[i].sum(), matrix[:, i].sum()
        precision = hit / claimed if claimed else 0.0
        recall = hit / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(support)}
    n = len(y_true)
    out = {
        "n": int(n),
        "accuracy": float((tp + tn) / n) if n else 0.0,
        "macro_f1": float(np.mean([row["f1"] for row in per_class.values()])),
        "mcc": _mcc(matrix) if len(set(y_true.tolist())) > 1 else 0.0,
        "roc_auc": _roc_auc(truth, p) if 0 < truth.sum() < len(truth) else None,
        "brier": float(np.mean((p - truth) ** 2)),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(LABELS), "rows_true_cols_predicted": matrix.tolist()},
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
