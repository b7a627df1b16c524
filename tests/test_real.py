"""Real labels joined with texts rebuilt outside the repository: by id, held-out ids refused. The texts
here are made up for the test; no real post is in the repository."""

import json

import pytest

from unstuck.data.errors import InputError
from unstuck.data.real import HELD_OUT_COUNSELCHAT, REAL_DIR, join_real, load_real, read_labels


def write_texts(folder, rows):
    folder.mkdir(exist_ok=True)
    (folder / "cssrs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_real_join_takes_labels_from_the_repository_and_text_from_the_folder(tmp_path):
    at_risk = next(label for label in read_labels(REAL_DIR / "cssrs.jsonl") if label.crisis)
    texts = write_texts(tmp_path / "texts", [
        {"id": at_risk.id, "source": "cssrs", "group": "u1", "detail": "", "text": "made up for the test"},
        {"id": "cssrs:nobody:0", "source": "cssrs", "group": "u2", "detail": "", "text": "not labeled"}])
    [(item, label)] = join_real(texts)
    assert (item.id, item.source, item.group, item.text) == (at_risk.id, "cssrs", "u1", "made up for the test")
    assert label.crisis is True
    assert [e.source for e in load_real(texts)] == ["real:cssrs"]


def test_real_join_refuses_a_held_out_id(tmp_path):
    held = f"cc:{sorted(HELD_OUT_COUNSELCHAT)[0]}"
    texts = write_texts(tmp_path / "texts", [{"id": held, "source": "counsel_chat", "group": "g", "text": "x"}])
    with pytest.raises(InputError, match="held-out"):
        join_real(texts)
