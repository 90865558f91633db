"""The model card's item-by-item comparison of two models (bench.model_card)."""

import pytest

from bench.model_card import _compared, _table, paired, sign_test


def test_sign_test_is_exact():
    assert sign_test(0, 5) == pytest.approx(2 / 32)
    assert sign_test(5, 0) == sign_test(0, 5)
    assert sign_test(3, 3) == 1.0 and sign_test(0, 0) == 1.0
    assert sign_test(71, 87) == pytest.approx(0.232, abs=0.001)  # McNemar, exact, as reported for the LM change
    assert sign_test(1000, 1100) < 0.05 < sign_test(1000, 1050)


def test_paired_counts_items_not_errors():
    first = {"item_errors": [0, 1, 3, 0, 2]}
    other = {"item_errors": [0, 0, 1, 1, 2]}
    assert paired(first, other) == {"fewer_errors": 2, "more_errors": 1, "p": 1.0}
    with pytest.raises(ValueError):
        paired(first, {"item_errors": [0]})


def test_later_models_compared_with_the_first_and_item_errors_dropped():
    def row(errors):
        return {"chars": {"greedy": {"cer": sum(errors) / 10, "wer": 0.0, "chars": 10, "items": len(errors),
                                     "item_errors": errors}}}
    results = _compared({"old.onnx": row([1, 1, 0]), "new.onnx": row([0, 0, 0])})
    assert "item_errors" not in results["old.onnx"]["chars"]["greedy"]
    assert "paired" not in results["old.onnx"]["chars"]["greedy"]
    assert results["new.onnx"]["chars"]["greedy"]["paired"] == {"fewer_errors": 2, "more_errors": 0, "p": 0.5}
    table = _table(results)
    assert "new.onnx vs old.onnx" in table and "| chars | greedy | 20.00% / 0.0% | 0.00% / 0.0% | 2 / 0, p = 0.5 |" in table
