"""`unstuck data check`: the shipped data passes, and broken crisis cases are caught with file and line."""

import json

from unstuck.training import crisis, datacheck


def test_datacheck_shipped_data_has_no_errors_and_no_crisis_case_is_in_a_test_set():
    from pathlib import Path

    tests = Path(__file__).parent / "data"
    assert [p.name for p in crisis.test_sets(tests)] == ["crisis_blind10_test.jsonl", "crisis_blind11_test.jsonl", "crisis_blind12_test.jsonl",
                                                          "crisis_blind13_test.jsonl", "crisis_blind14_test.jsonl", "crisis_blind15_test.jsonl",
                                                          "crisis_blind16_test.jsonl", "crisis_blind17_test.jsonl",
                                                          "crisis_blind18_test.jsonl", "crisis_blind19_test.jsonl",
                                                          "crisis_blind20_test.jsonl", "crisis_blind21_test.jsonl",
                                                          "crisis_blind22_test.jsonl", "crisis_blind23_test.jsonl",
                                                          "crisis_blind8_test.jsonl",
                                                          "crisis_socdev_test.jsonl"]  # the earlier ones train now
    report = datacheck.check_data(tests=tests)
    assert report.errors == []
    assert report.counts["crisis_cases"]["at_risk"] >= 300


def test_datacheck_crisis_case_shared_with_the_blind_test_half_is_an_error(tmp_path, monkeypatch):
    cases, blind = tmp_path / "crisis", tmp_path / "tests" / "crisis_blind_test.jsonl"
    blind.parent.mkdir()
    cases.mkdir()
    rows = [{"text": "the bridge keeps calling me", "crisis": True, "kind": "self"},
            {"text": "made soup", "crisis": False, "kind": "hard_day"},
            {"text": "no kind here", "crisis": False}]
    (cases / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n", encoding="utf-8")
    blind.write_text(json.dumps({"text": "The bridge keeps  calling me", "crisis": True, "kind": "self"}) + "\n",
                     encoding="utf-8")
    monkeypatch.setattr(crisis, "CASES_DIR", cases)
    report = datacheck.DataReport([])
    datacheck._crisis_cases(report, blind.parent)
    assert report.errors[:2] == [
        'crisis/a.jsonl:3: expected {"text": "...", "crisis": true/false, "kind": "..."}',
        "crisis/a.jsonl:4: invalid JSON (Expecting value, column 1)",
    ]
    assert len(report.errors) == 3
    assert report.errors[2].endswith("/crisis_blind_test.jsonl:1: a blind test case is also a training case "
                                     "crisis/a.jsonl:1")
    assert report.counts["crisis_cases"] == {"at_risk": 1, "not_at_risk": 1}


def test_datacheck_suspects_show_their_file_line_and_text_start(tmp_path, tiny_examples):
    from typer.testing import CliRunner

    from unstuck.cli.app import app

    labeled = tmp_path / "labeled.jsonl"
    rows = [{"id": e.id, "text": e.text, "labels": list(e.labels)} for e in tiny_examples]
    rows[0]["labels"] = ["fear"]  # "I keep cancelling my sessions..." mislabeled on purpose
    labeled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "check", str(labeled), "--suspects", str(len(rows))])
    listed = result.stdout.split("labels to double-check")[1].splitlines()[1:len(rows) + 1]
    assert all(line.startswith(f"  {labeled}:") and ' "' in line for line in listed)
    line_one = [line for line in listed if line.startswith(f"  {labeled}:1 ")]
    assert line_one == [line_one[0]] and '"I keep cancelling my sessions, third ti…": given fear; model says ' in line_one[0]
    assert "inconsistency" in line_one[0].split("model says ")[1]
