"""Privacy and robustness: no network, no entry text in logs or errors, clear failures."""

import errno
import json
import logging
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model.nlp import MAX_CHARS
from unstuck.model.tagger import Tagger

runner = CliRunner()
SECRET = "Marguerite-7731 told me about the lake house"


@pytest.fixture(scope="module")
def tagger():
    return Tagger.load()


def test_privacy_the_suite_runs_with_network_sockets_blocked():
    with pytest.raises(Exception, match="socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("127.0.0.1", 9))


def test_privacy_no_entry_text_in_logs_or_errors_with_debug_logging(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    source = tmp_path / "notes.jsonl"
    source.write_text(json.dumps({"id": "1", "text": SECRET + " and I skipped therapy again"}) + "\n"
                      + '{"id": "2", "text": "' + SECRET + '"\n'  # broken JSON holding the secret
                      + json.dumps({"id": "3", "text": SECRET * 6000}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--workers", "1"])
    tagged = runner.invoke(app, ["tag", SECRET])
    assert result.exit_code == 0 and tagged.exit_code == 0
    assert SECRET not in caplog.text
    assert SECRET not in result.stderr and SECRET not in tagged.stderr
    assert f"{source}:2:" in result.stderr and f"{source}:3:" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "unstuck-home") == ["notes.jsonl", "out.jsonl"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_privacy_tag_survives_any_unicode(tagger, text):
    tagging = tagger.tag(text)
    assert set(tagging.scores) == set(LABEL_IDS)
    assert all(0.0 <= v <= 1.0 for v in tagging.scores.values())
    for found in tagging.evidence.values():
        for e in found:
            assert text[e.start:e.end] == e.text


@pytest.mark.parametrize("text", ["", "   \n\t ", "🙂🙃🫠" * 50, "أشعر بالتوتر قبل الجلسة", "\u202eevil\u202c", "a" * 5000])
def test_privacy_tag_handles_edge_inputs(tagger, text):
    assert set(tagger.tag(text).scores) == set(LABEL_IDS)


def test_privacy_a_megabyte_entry_is_refused_in_one_line():
    result = runner.invoke(app, ["tag"], input="word " * 210_000)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"unstuck: entry is 1,050,000 characters; the limit is {MAX_CHARS:,}"


def test_privacy_full_disk_while_writing_batch_output_keeps_nothing_half_written(tmp_path, monkeypatch):
    source = tmp_path / "notes.txt"
    source.write_text("skipped therapy again\nmade soup\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    from unstuck.data import output

    def no_space(self, record):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.JsonlWriter, "write", no_space)
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["unstuck: No space left on device; nothing was changed"]
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "unstuck-home") == ["notes.txt", "out.jsonl"]


def test_privacy_data_directory_that_is_a_file_is_a_clear_error(tmp_path, monkeypatch):
    home = tmp_path / "not-a-dir"
    home.write_text("x")
    monkeypatch.setenv("UNSTUCK_HOME", str(home))
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"text": "brand new example about cancelling", "labels": ["inconsistency"]}) + "\n")
    result = runner.invoke(app, ["train", "--add", str(new)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not-a-dir" in result.stderr
    assert runner.invoke(app, ["tag", "still works from the shipped model"]).exit_code == 0
