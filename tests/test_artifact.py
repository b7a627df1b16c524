import json
import shutil

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model import DEFAULT_MODEL_DIR, store
from unstuck.model.artifact import META_FILE, PIPELINE_FILE, ModelError, library_versions, load_model
from unstuck.model.tagger import Tagger

runner = CliRunner()


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    return target


def test_artifact_shipped_model_loads():
    pipeline, manifest = load_model(DEFAULT_MODEL_DIR)
    assert manifest.label_ids and set(manifest.thresholds) == set(manifest.label_ids)


def test_artifact_a_format_1_model_made_by_an_earlier_version_still_loads_and_tags_the_same(model_copy):
    import hashlib

    from conftest import pickled_pipeline

    pipeline, _ = load_model(DEFAULT_MODEL_DIR)
    (model_copy / PIPELINE_FILE).unlink()
    (model_copy / "pipeline.joblib").write_bytes(pickled_pipeline(pipeline, format=1))
    meta = json.loads((model_copy / META_FILE).read_text(encoding="utf-8"))
    meta.update(format=1, sha256=hashlib.sha256((model_copy / "pipeline.joblib").read_bytes()).hexdigest())
    (model_copy / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    text = "I keep cancelling sessions and I'm not sure my therapist understands my culture."
    old, new = Tagger.load(model_copy).tag(text), Tagger.load(DEFAULT_MODEL_DIR).tag(text)
    assert Tagger.load(model_copy).manifest.format == 1
    assert (old.labels, old.scores) == (new.labels, new.scores)


def test_artifact_truncated_pipeline_is_refused_with_the_remedy(model_copy):
    path = model_copy / PIPELINE_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match="truncated or changed; run `unstuck train`"):
        load_model(model_copy)


def test_artifact_edited_manifest_is_refused(model_copy):
    (model_copy / META_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="manifest is damaged"):
        load_model(model_copy)


def test_artifact_other_sklearn_version_is_refused(model_copy):
    meta = json.loads((model_copy / META_FILE).read_text())
    meta["library_versions"]["scikit-learn"] = "0.24.2"
    (model_copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="built with scikit-learn 0.24.2"):
        load_model(model_copy)


def _edit_versions(model_copy, **versions):
    meta = json.loads((model_copy / META_FILE).read_text())
    meta["library_versions"].update(versions)
    for name in [k for k, v in versions.items() if v is None]:
        del meta["library_versions"][name]
    (model_copy / META_FILE).write_text(json.dumps(meta))


def test_artifact_other_spacy_minor_version_is_refused(model_copy):
    _edit_versions(model_copy, spacy="2.3.0")
    with pytest.raises(ModelError, match="built with spacy 2.3.0, this install has"):
        load_model(model_copy)


def test_artifact_older_manifest_without_spacy_python_unstuck_versions_loads(model_copy):
    _edit_versions(model_copy, spacy=None, python=None, unstuck=None)
    assert load_model(model_copy)[1].label_ids


def test_artifact_a_model_records_every_version_it_was_built_with():
    assert set(library_versions()) == {"scikit-learn", "spacy", "numpy", "python", "unstuck"}


def test_artifact_cli_refuses_a_broken_model_in_one_line(model_copy):
    (model_copy / PIPELINE_FILE).write_bytes(b"garbage")
    result = runner.invoke(app, ["tag", "--model", str(model_copy), "--trust-model", "some text"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "unstuck train" in result.stderr


def _unusable_shipped_model(monkeypatch, model_copy):
    meta = json.loads((model_copy / META_FILE).read_text())
    meta["library_versions"]["scikit-learn"] = "0.24.2"
    (model_copy / META_FILE).write_text(json.dumps(meta))
    monkeypatch.setattr(store, "DEFAULT_MODEL_DIR", model_copy)


def test_artifact_unusable_shipped_model_names_the_rebuild_command_and_rebuilds_nothing(
        monkeypatch, model_copy, private_home):
    _unusable_shipped_model(monkeypatch, model_copy)
    result = runner.invoke(app, ["tag", "some text"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"unstuck: {model_copy}: built with scikit-learn 0.24.2")
    assert "run `unstuck models rebuild`" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (private_home / "models").exists()


@pytest.mark.slow
def test_artifact_models_rebuild_rebuilds_an_unusable_shipped_model_into_the_user_home(
        monkeypatch, model_copy, private_home):
    _unusable_shipped_model(monkeypatch, model_copy)
    from unstuck.training import workflow

    seed = workflow.load_seed()[::4]  # the shipped recipe on a quarter of the seed set keeps this quick
    monkeypatch.setattr(workflow, "load_seed", lambda: seed)
    result = runner.invoke(app, ["models", "rebuild"])
    assert result.exit_code == 0, result.stderr
    assert "rebuilt the shipped model into" in result.stdout and "active model: rebuilt-shipped" in result.stdout
    tagger = Tagger.load()
    assert tagger.path.is_relative_to(private_home)
    shipped_config = json.loads((model_copy / META_FILE).read_text())["config"]
    assert {k: tagger.manifest.config[k] for k in shipped_config} == shipped_config  # the shipped recipe
