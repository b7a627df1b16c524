"""`unstuck report` on what people give it: day/month dates, a wrong --date-field or --id-field, an
output that is not a page, and the folder of a Dask batch (partition files and manifest.json)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")
TEXTS = ["I cancelled my session again.", "I'm scared to tell my therapist.", "Had a few drinks before it.",
         "Good session today, hopeful.", "My phone kept buzzing all session."]


def journal(path, dates, **extra) -> str:
    path.write_text("".join(json.dumps({"id": f"e{i}", "date": d, "text": t, **extra}) + "\n"
                            for i, (d, t) in enumerate(zip(dates, TEXTS), start=1)), encoding="utf-8")
    return str(path)


def report(*args: str):
    return runner.invoke(app, ["report", *args])


def test_report_ambiguous_dates_stop_with_one_line_and_write_nothing(tmp_path):
    source = journal(tmp_path / "j.jsonl", ["13/03/2026", "04/03/2026", "20/03/2026", "22/03/2026", "25/03/2026"])
    result = report(source, "-o", "r.html", "--date-field", "date")
    assert result.exit_code == 2 and not (tmp_path / "r.html").exists()
    assert result.stderr.splitlines() == [
        f'unstuck: {source}:2: "date": 04/03/2026 could be day first or month first; say which with --dayfirst or '
        f"--monthfirst (the date at {source}:1 can only be day first)"]


@pytest.mark.parametrize("flag, expected", [("--dayfirst", "4 Mar 2026 to 25 Mar 2026"), ("--monthfirst", None)])
def test_report_dayfirst_or_monthfirst_settles_the_order(tmp_path, flag, expected):
    source = journal(tmp_path / "j.jsonl", ["13/03/2026", "04/03/2026", "20/03/2026", "22/03/2026", "25/03/2026"])
    result = report(source, "-o", "r.html", "--date-field", "date", flag)
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    if expected:
        assert expected in page
    else:  # month first: 13/03 is no date, said per entry; 04/03 is April 3
        assert f'{source}:1: "date": there is no month 13; if these dates are day first, use --dayfirst' in result.stderr
        assert "3 Apr 2026" in page or "Apr 2026" in page


def test_report_dates_in_both_orders_stop(tmp_path):
    source = journal(tmp_path / "j.jsonl", ["13/03/2026", "03/14/2026", "2026-03-20", "2026-03-22", "2026-03-25"])
    result = report(source, "-o", "r.html", "--date-field", "date")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f'unstuck: {source}:1: "date": day first here but month first at {source}:2; '
                                     "fix the dates, or say which with --dayfirst or --monthfirst")


def test_report_wrong_date_field_names_the_fields_there_are(tmp_path):
    source = journal(tmp_path / "j.jsonl", ["2026-03-01"] * 5, mood="low")
    result = report(source, "-o", "r.html", "--date-field", "created")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f'unstuck: {source}: no entry has a "created" field; found "id", "date", "text", '
                                     '"mood"; name the date field with --date-field NAME')
    assert "--keep-fields" not in result.stderr


def test_report_wrong_date_field_in_a_csv_names_its_columns(tmp_path):
    (tmp_path / "j.csv").write_text("id,when,text\n1,2026-03-01,I cancelled again.\n", encoding="utf-8")
    result = report(str(tmp_path / "j.csv"), "-o", "r.html", "--date-field", "date")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith('no "date" column; found "id", "when", "text"; name the date field with '
                                          "--date-field NAME")


@pytest.mark.parametrize("name", ["r.pdf", "r.jsonl", "report"])
def test_report_output_must_be_a_page(tmp_path, name):
    source = journal(tmp_path / "j.jsonl", ["2026-03-01"] * 5)
    result = report(source, "-o", name)
    assert result.exit_code == 2 and not (tmp_path / name).exists()
    assert "end the name in .html or .htm, or use - for standard output" in result.stderr


def test_batch_jsonl_named_id_field_that_no_row_has_is_an_error(tmp_path):
    source = journal(tmp_path / "j.jsonl", ["2026-03-01"] * 5)
    result = runner.invoke(app, ["batch", source, "-o", "o.jsonl", "--id-field", "entry_id"])
    assert result.exit_code == 2 and not (tmp_path / "o.jsonl").exists()
    assert result.stderr.strip() == (f'unstuck: {source}:1: no "entry_id" field; found "id", "date", "text"; '
                                     "name the id field with --id-field NAME")


def _body(page: str) -> str:
    """The page from the crisis list on, without line numbers (those of each partition file)."""
    return re.sub(r" · line \d+", "", page.split('id="crisis"')[1])


def test_report_reads_a_dask_output_folder(tmp_path):
    source = journal(tmp_path / "j.jsonl", ["2026-03-02", "2026-03-05", "2026-03-11", "2026-03-19", "2026-03-26"])
    result = runner.invoke(app, ["batch", source, "-o", "tags.jsonl", "--evidence", "--keep-fields", "date,text"])
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "tags.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    folder = tmp_path / "tagged"
    folder.mkdir()
    (folder / "part-00000.jsonl").write_text("".join(lines[:3]), encoding="utf-8")
    (folder / "part-00001.jsonl").write_text("".join(lines[3:]), encoding="utf-8")
    manifest = {"format": 1, "complete": True, "run": {"model_version": "v-test"},
                "partitions": [{"index": 0, "output": "part-00000.jsonl"}, {"index": 1, "output": "part-00001.jsonl"}]}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert report(str(folder), "-o", "dask.html").exit_code == 0
    assert report("tags.jsonl", "-o", "one.html").exit_code == 0
    dask, one = ((tmp_path / n).read_text(encoding="utf-8") for n in ("dask.html", "one.html"))
    assert "<dd>v-test</dd>" in dask and "2 Mar 2026 to 26 Mar 2026" in dask
    assert _body(dask) == _body(one)
    manifest["complete"] = False
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = report(str(folder), "-o", "late.html")
    assert result.exit_code == 2
    assert "the batch run did not finish" in result.stderr
