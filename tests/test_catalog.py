"""The light model catalog (`unstuck models`) agrees with the full manifest reader in model/artifact."""

import json
import shutil

import pytest

from unstuck.model import DEFAULT_MODEL_DIR, artifact, catalog, store


def test_catalog_constants_match_the_artifact_format():
    assert (catalog.META_FILE, catalog.FORMATS) == (artifact.META_FILE, tuple(artifact.PIPELINE_FILES))
    fields = artifact.Manifest.__dataclass_fields__
    assert set(catalog.REQUIRED) == {k for k, f in fields.items() if f.default is f.default_factory is
                                     __import__("dataclasses").MISSING}


def copy_shipped(version, edit=None):
    target = store.models_dir() / version
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    if edit:
        meta = json.loads((target / "meta.json").read_text())
        edit(meta)
        (target / "meta.json").write_text(json.dumps(meta))
    return target


@pytest.mark.parametrize("edit, usable", [
    (None, True),
    (lambda m: m.pop("thresholds"), False),
    (lambda m: m.update(label_ids=["fear"]), False),
    (lambda m: m.update(format=3), False),
])
def test_catalog_lists_exactly_the_models_artifact_can_read(edit, usable):
    path = copy_shipped("v1", edit)
    try:
        artifact.read_manifest(path)
        readable = True
    except artifact.ModelError:
        readable = False
    assert readable == usable
    assert [row["version"] for row in catalog.list_models()] == ["shipped", "v1"][: 1 + usable]


def test_catalog_use_switches_and_refuses_a_broken_model_naming_the_good_ones():
    copy_shipped("v1")
    copy_shipped("broken", lambda m: m.pop("n_train"))
    catalog.use_model("v1")
    assert store.active_version() == "v1"
    assert catalog.list_models()[1] | {"trained_at": ""} == {"version": "v1", "active": True, "trained_at": "",
                                                              "n_train": catalog.list_models()[0]["n_train"],
                                                              "macro_f1": catalog.list_models()[0]["macro_f1"]}
    with pytest.raises(catalog.UnknownModel, match="broken is not a usable model; known: shipped, v1"):
        catalog.use_model("broken")
