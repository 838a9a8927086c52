"""graphlint's verdicts against the recorded outcomes of a corpus, per split and target: what the frozen-graph
corpus test (test_corpus.py) and the SavedModel corpus test (tests/corpus_saved) both measure and require.

``outcomes`` is an outcomes JSON's ``models`` mapping (``{id: {"split": ..., target: {"verdict", "status",
"error"}}}``); ``predictions`` maps model ids to graphlint reports. Kept outside tests/corpus: the frozen corpus
caches its build by the digest of that folder's sources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphlint.report import Report


def disagreements(outcomes: Mapping[str, dict], predictions: Mapping[str, Report], target: str,
                  split: str) -> list[str]:
    """One line per model of ``split`` whose verdict for ``target`` differs from the recorded one."""
    wrong = []
    for model_id, report in predictions.items():
        recorded = outcomes[model_id]
        if recorded["split"] != split:
            continue
        expected, got = recorded[target]["verdict"], report.verdicts()[target]["verdict"]
        if got != expected:
            wrong.append(f"{model_id}: graphlint {got}, converter {expected} "
                         f"({recorded[target]['status']}: {(recorded[target]['error'] or '')[:120]}); "
                         f"graphlint findings {report.verdicts()[target]}")
    return wrong


def false_fails(outcomes: Mapping[str, dict], predictions: Mapping[str, Report], split: str,
                targets: Sequence[str]) -> list[str]:
    """``model target`` cells of ``split`` where graphlint says fail and the real tools convert and run."""
    return [f"{m} {t}" for m, r in predictions.items() if outcomes[m]["split"] == split for t in targets
            if r.verdicts()[t]["verdict"] == "fail" and outcomes[m][t]["verdict"] != "fail"]


def size(outcomes: Mapping[str, dict], predictions: Mapping[str, Report], split: str) -> int:
    """How many of the predicted models are in ``split``."""
    return sum(outcomes[m]["split"] == split for m in predictions)


def agreement(outcomes: Mapping[str, dict], predictions: Mapping[str, Report], target: str, split: str) -> float:
    """The share of ``split``'s models whose verdict for ``target`` is the recorded one."""
    return 1 - len(disagreements(outcomes, predictions, target, split)) / size(outcomes, predictions, split)


def table(outcomes: Mapping[str, dict], predictions: Mapping[str, Report], targets: Sequence[str],
          splits: Sequence[str]) -> list[str]:
    """Rows per split: agreed models and agreement per target, then the false fails."""
    lines = [f"{'split':8} {'models':>6}  " + " ".join(f"{t:>13}" for t in targets) + "  false fails"]
    for split in splits:
        n = size(outcomes, predictions, split)
        cells = []
        for target in targets:
            wrong = len(disagreements(outcomes, predictions, target, split))
            cells.append(f"{n - wrong:>4}/{n} {1 - wrong / n:5.1%}")
        lines.append(f"{split:8} {n:>6}  " + " ".join(f"{c:>13}" for c in cells)
                     + f"  {len(false_fails(outcomes, predictions, split, targets)):>11}")
    return lines


def misses(outcomes: Mapping[str, dict], predictions: Mapping[str, Report], targets: Sequence[str],
           splits: Sequence[str]) -> list[str]:
    """Every disagreement, one line each, tagged with its split and target."""
    return [f"  miss [{split} {target}] {line[:300]}" for split in splits for target in targets
            for line in disagreements(outcomes, predictions, target, split)]
