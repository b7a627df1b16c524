"""Real text: rebuilding texts from public copies, joining them with the labels by id, held-out items
refused, each source held out in turn. Every text here is made up; no real post is in the repository."""

from __future__ import annotations

import csv
import json

import pytest

from unstuck.data.examples import Example
from unstuck.data.errors import InputError
from unstuck.data.real import (
    HELD_OUT_COUNSELCHAT, HELD_OUT_CSSRS_USERS, REAL_DIR, held_out_reason, join_real, load_real, read_labels,
)

HELD_QUESTION = sorted(HELD_OUT_COUNSELCHAT)[0]
HELD_USER = sorted(HELD_OUT_CSSRS_USERS)[0]


def _write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def public_copies(tmp_path):
    """Tiny stand-ins, in the public files' own layouts, each with one held-out item."""
    repo = tmp_path / "counsel-chat"
    header = ["questionID", "questionTitle", "questionText", "questionUrl", "topics", "therapistName",
              "therapistUrl", "answerText", "upvotes"]
    _write_csv(repo / "data" / "counselchat-data.csv", header, [
        ["q-open", "Is this normal?", "My counselor keeps checking her phone while I talk.", "u/open", "", "", "", "a", "0"],
        ["q-open", "Is this normal?", "My counselor keeps checking her phone while I talk.", "u/open", "", "", "", "b", "1"],
        [HELD_QUESTION, "Held", "A question kept for someone else's evaluation.", "u/held", "", "", "", "a", "0"],
    ])
    cssrs = tmp_path / "cssrs.csv"
    _write_csv(cssrs, ["User", "Post", "Label"], [
        ["user-open", repr(["first post of an ordinary week", "second post, about the weather"]), "Supportive"],
        [HELD_USER, repr(["a post that must never be read"]), "Ideation"],
    ])
    rmhd = tmp_path / "rmhd.csv"
    _write_csv(rmhd, ["", "subreddit", "author", "date", "post"], [
        ["7", "mentalhealth", "someone", "2019/05/26", "Started therapy last month and it is going fine so far."],
    ])
    return repo, cssrs, rmhd


def test_real_sources_rebuild_only_labeled_items_and_never_held_out_ones(public_copies, tmp_path, monkeypatch):
    from unstuck.data import real
    from unstuck.training import real_sources

    repo, cssrs, rmhd = public_copies
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "mixed.jsonl").write_text("\n".join(json.dumps({"id": i, "labels": [], "crisis": False, "safety": False})
                                                  for i in ("cc:q-open", "cssrs:user-open:1", "rmhd:7")) + "\n")
    monkeypatch.setattr(real, "REAL_DIR", labels)
    out = tmp_path / "texts"
    assert real_sources.main(["--counsel-chat", str(repo), "--cssrs", str(cssrs), "--rmhd", str(rmhd),
                              "--out", str(out)]) == 0
    rows = {json.loads(line)["id"]: json.loads(line) for path in out.glob("*.jsonl")
            for line in path.read_text().splitlines()}
    assert set(rows) == {"cc:q-open", "cssrs:user-open:1", "rmhd:7"}  # unlabeled and held-out items left out
    assert rows["cc:q-open"]["text"].startswith("Is this normal?\n\nMy counselor")
    assert rows["cssrs:user-open:1"]["text"] == "second post, about the weather"
    assert "never be read" not in "".join(path.read_text() for path in out.glob("*.jsonl"))


def test_real_items_from_held_out_questions_and_users_are_never_read(public_copies):
    from unstuck.training.real_sources import counsel_chat_items, cssrs_items

    repo, cssrs, _ = public_copies
    ids = [item.id for item in counsel_chat_items(repo)] + [item.id for item in cssrs_items(cssrs)]
    assert ids == ["cc:q-open", "cssrs:user-open:0", "cssrs:user-open:1"]


def test_load_real_refuses_a_text_file_that_holds_a_held_out_item(tmp_path):
    from unstuck.data.errors import InputError

    (tmp_path / "counsel_chat.jsonl").write_text(json.dumps(
        {"id": f"cc:{HELD_QUESTION}", "source": "counsel_chat", "group": "x", "text": "t"}) + "\n")
    with pytest.raises(InputError, match="held-out"):
        load_real(tmp_path)


@pytest.mark.parametrize("item_id, held", [(f"cc:{HELD_QUESTION}", True), (f"cssrs:{HELD_USER}:3", True),
                                           ("cc:not-held", False), ("cssrs:user-not-held:0", False), ("diary-1", False)])
def test_held_out_reason_names_held_out_ids_only(item_id, held):
    assert bool(held_out_reason(item_id)) is held


def test_data_check_refuses_a_training_entry_from_a_held_out_item(tmp_path):
    from typer.testing import CliRunner

    from unstuck.cli.app import app

    labeled = tmp_path / "mine.jsonl"
    labeled.write_text(json.dumps({"id": f"cc:{HELD_QUESTION}", "text": "some question text", "labels": []}) + "\n"
                       + json.dumps({"id": "mine-2", "text": "another entry of mine", "labels": ["fear"]}) + "\n")
    result = CliRunner().invoke(app, ["data", "check", str(labeled)])
    assert result.exit_code == 2
    assert f"cc:{HELD_QUESTION}: a held-out counsel-chat question" in result.output


def test_shipped_real_labels_use_taxonomy_ids_and_no_held_out_item():
    from unstuck.data.real import REAL_DIR, read_labels
    from unstuck.data.taxonomy import LABEL_IDS

    labels = [label for path in REAL_DIR.glob("*.jsonl") for label in read_labels(path)]
    assert len(labels) >= 1500
    assert all(set(label.labels) <= set(LABEL_IDS) for label in labels)
    assert not [label.id for label in labels if held_out_reason(label.id)]
    assert sum(not label.labels for label in labels) > len(labels) / 2  # most real posts carry no tag


def test_train_holds_each_real_source_out_whole_and_reports_it(tiny_examples, tiny_config):
    from unstuck.training.train import train

    real = [Example(f"r{s}-{i}", e.text + f" (post {s})", e.labels, f"real:{s}", f"writer-{s}-{i}")
            for s in ("a", "b") for i, e in enumerate(tiny_examples)]
    result = train(tiny_examples + real, tiny_config)
    assert set(result.report["real_cv"]["sources"]) == {"real:a", "real:b"}
    assert result.report["real_cv"]["n"] == len(real)
    assert all(e.source.startswith("real:") for e in real if e in result.split.train)
    assert not [e for e in result.split.test if e.source.startswith("real:")]
    assert result.report["group_cv"]["n"] + result.report["cv"]["n"] > 0


def test_train_holds_real_writers_out_and_their_unlabeled_posts_with_them(tiny_examples, tiny_config, monkeypatch):
    from unstuck.training import train as T

    real = [Example(f"r{s}-{i}", e.text + f" (post {s})", e.labels, f"real:{s}", f"writer-{s}-{i % 4}")
            for s in ("a", "b") for i, e in enumerate(tiny_examples)]
    weak = [Example(f"w-{i}", f"an unlabeled post about the weekend, number {i}", (), "weak:a", f"writer-a-{i % 4}")
            for i in range(8)]
    seen = []
    fit_predict = T._fit_predict
    monkeypatch.setattr(T, "_fit_predict", lambda config, feats, Y, weights, tr, te: (
        seen.append((tr, te)), fit_predict(config, feats, Y, weights, tr, te))[1])
    result = T.train(tiny_examples + real + weak, tiny_config)
    writers = result.report["real_writer_cv"]
    assert writers["n"] == len(real)  # every labeled real item scored once, the unlabeled ones never
    assert set(writers["sources"]) == {"real:a", "real:b"}
    groups = [e.group for e in result.split.train]
    names = [e.id for e in result.split.train]
    folds = [(tr, te) for tr, te in seen if len(te) and all(names[i].startswith("r") for i in te)]
    assert folds
    for tr, te in folds:  # no writer on both sides, their unlabeled posts included
        assert not {groups[i] for i in tr} & {groups[i] for i in te}


def test_evaluate_breaks_results_down_by_source(tmp_path):
    from typer.testing import CliRunner

    from unstuck.cli.app import app

    labeled = tmp_path / "labeled.jsonl"
    rows = [("I keep cancelling my sessions, third time this month", ["inconsistency"], "forum"),
            ("made lasagna with my daughter, she loved it", [], "forum"),
            ("hungover again for therapy, couldn't focus on anything", ["substance_use"], "diary"),
            ("long walk by the river, felt calm", [], "diary")]
    labeled.write_text("".join(json.dumps({"text": t, "labels": l, "source": s}) + "\n" for t, l, s in rows))
    result = CliRunner().invoke(app, ["evaluate", str(labeled), "--json"])
    assert result.exit_code == 0, result.output
    by_source = json.loads(result.stdout)["metrics"]["by_source"]
    assert {k: v["n"] for k, v in by_source.items()} == {"diary": 2, "forum": 2}
    shown = CliRunner().invoke(app, ["evaluate", str(labeled)]).stdout
    assert "per source" in shown and "  diary" in shown and "  forum" in shown


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


def test_a_post_labeled_for_the_crisis_screen_only_never_trains_the_barrier_model(tmp_path):
    crisis_only = next(label for label in read_labels(REAL_DIR / "cssrs.jsonl") if not label.barrier)
    texts = write_texts(tmp_path / "texts", [
        {"id": crisis_only.id, "source": "cssrs", "group": "u1", "detail": "", "text": "made up for the test"}])
    assert [item.id for item, _ in join_real(texts)] == [crisis_only.id]  # the crisis screen reads it
    assert load_real(texts) == []  # the barrier model does not


def test_real_join_refuses_a_held_out_id(tmp_path):
    held = f"cc:{sorted(HELD_OUT_COUNSELCHAT)[0]}"
    texts = write_texts(tmp_path / "texts", [{"id": held, "source": "counsel_chat", "group": "g", "text": "x"}])
    with pytest.raises(InputError, match="held-out"):
        join_real(texts)


def test_rmhd_rallypoint_rows_yield_only_the_reddit_posts(tmp_path):
    from unstuck.training.real_sources import RALLYPOINT_FILES, rmhd_rallypoint_items

    (_, train), (_, test) = RALLYPOINT_FILES
    _write_csv(tmp_path / train, ["", "doc", "label", "source"], [
        ["4", "My therapist keeps cancelling on me and I am losing hope.", "1.0", "reddit mentalhealth"],
        ["5", "A post from a network with no license.", "0.0", "rallypoint Set 1"],
        ["6", "A post from another app.", "1.0", "rallypoint shortstbposts_talklife"],
    ])
    _write_csv(tmp_path / test, ["", "doc", "label", "source"], [["9", "Started drinking again after rehab.", "1.0", "reddit addiction"]])
    items = list(rmhd_rallypoint_items(tmp_path))
    assert [(i.id, i.source, i.detail) for i in items] == [
        ("rmhd:rp-train:4", "rmhd", "mentalhealth"), ("rmhd:rp-test:9", "rmhd", "addiction")]
    assert not held_out_reason(items[0].id)


def _write_weak(folder, rows):
    (folder / "weak_rmhd.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_unlabeled_no_barrier_posts_load_as_weak_examples_beside_the_labeled_ones(tmp_path):
    at_risk = next(label for label in read_labels(REAL_DIR / "cssrs.jsonl") if label.crisis)
    texts = write_texts(tmp_path / "texts", [
        {"id": at_risk.id, "source": "cssrs", "group": "u1", "detail": "", "text": "made up for the test"}])
    _write_weak(texts, [{"id": "rmhd:999999", "source": "rmhd", "group": "rmhd:someone", "detail": "",
                         "text": "bought a new bike and rode it to the lake"}])
    examples = load_real(texts)
    assert [(e.source, e.labels) for e in examples] == [("real:cssrs", at_risk.labels), ("weak:rmhd", ())]
    assert [item.id for item, _ in join_real(texts)] == [at_risk.id]  # never joined to labels


@pytest.mark.parametrize("kind", ["held out", "hand-labeled"])
def test_a_weak_post_that_is_held_out_or_hand_labeled_is_refused_with_file_and_line(tmp_path, kind):
    bad = (f"cc:{sorted(HELD_OUT_COUNSELCHAT)[0]}" if kind == "held out"
           else read_labels(REAL_DIR / "rmhd.jsonl")[0].id)
    texts = write_texts(tmp_path / "texts", [])
    _write_weak(texts, [{"id": "rmhd:999999", "group": "g", "text": "fine"}, {"id": bad, "group": "g", "text": "x"}])
    with pytest.raises(InputError, match="weak_rmhd.jsonl.*2|line 2"):
        load_real(texts)


def test_weak_negatives_take_only_unlabeled_posts_that_name_no_therapy_or_help():
    from unstuck.data.real import RealItem
    from unstuck.training.real_sources import weak_negatives

    items = [RealItem(f"rmhd:{i}", "rmhd", f"g{i}", text) for i, text in enumerate([
        "my therapist cancelled again and I am fed up with it all",
        "the landlord raised the rent and I am fed up with it all",
        "I need help deciding between two jobs, both pay the same",
        "the landlord raised the rent again and the boiler is broken too",
    ])]
    chosen = weak_negatives(items, labeled={"rmhd:3"}, n=10)
    assert [i.id for i in chosen] == ["rmhd:1"]


def test_holding_out_a_real_source_also_keeps_its_unlabeled_posts_out_of_training(monkeypatch):
    import numpy as np

    from unstuck.training import train as training

    trained_on = []
    monkeypatch.setattr(training, "_fit_predict",
                        lambda config, feats, Y, weights, tr, te: (trained_on.append(set(feats[tr])),
                                                                   np.zeros((len(te), Y.shape[1]), int))[1])
    sources = ["seed", "real:rmhd", "weak:rmhd", "real:cssrs", "weak:cssrs"]
    feats = ["s", "r", "w", "c", "wc"]
    training.held_out_sources(training.DEFAULT_CONFIG, feats, np.zeros((5, 12), int), sources)
    assert trained_on == [{"s", "r", "w"}, {"s", "c", "wc"}]  # cssrs out, then rmhd out


def test_the_crisis_models_held_out_real_source_never_reaches_its_training_rows():
    import numpy as np

    from unstuck.training.crisis import Corpus
    from unstuck.training.crisis_real import HELD_OUT_SOURCE, without_source

    kind = np.array(["case", "real", "real", "ordinary"])
    source = np.array(["cases", HELD_OUT_SOURCE, "cssrs", "seed"])
    corpus = Corpus(["a", "b", "c", "d"], np.array([True, True, False, False]), kind, source,
                    np.array(["g0", "g1", "g2", "g3"]), np.array([True, False, False, False]),
                    np.zeros(4, dtype=bool), [[(0, 1)]] * 4, [[(0, 0)]] * 4, [set(), {0}, set(), set()])
    kept = without_source(corpus, HELD_OUT_SOURCE)
    assert kept.texts == ["a", "c", "d"]
    assert list(kept.source) == ["cases", "cssrs", "seed"]
    assert list(kept.at_risk) == [True, False, False] and list(kept.by_rules) == [True, False, False]
    assert kept.blocked == [set(), set(), set()]
