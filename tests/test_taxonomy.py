from pathlib import Path

import pytest

from unstuck.data.errors import InputError
from unstuck.data.taxonomy import LABEL_IDS, TAXONOMY_PATH, Audience, load_taxonomy


def test_taxonomy_shipped_file_has_every_contract_id_with_steps():
    taxonomy = load_taxonomy()
    assert list(taxonomy) == list(LABEL_IDS)
    for label in taxonomy.values():
        assert label.description
        for audience in Audience:
            assert 2 <= len(label.steps_for(audience)) <= 5


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('id = "trust"', 'id = "trusty"', 1), "unknown label id 'trusty'"),
        (lambda t: t.replace("therapist = [", "therapists = [", 1), "has no next steps for 'therapist'"),
        (lambda t: _empty_first_client_list(t), "needs 2-5 client steps, found 0"),
        (lambda t: t + t[t.index("[[label]]") : t.index("[[label]]", t.index("[[label]]") + 1)], "defined twice"),
    ],
)
def test_taxonomy_loader_names_the_problem(tmp_path: Path, edit, message):
    broken = tmp_path / "taxonomy.toml"
    broken.write_text(edit(TAXONOMY_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_taxonomy(broken)
    assert message in str(err.value)
    assert str(broken) in str(err.value)


def test_taxonomy_loader_reports_bad_toml_with_line(tmp_path: Path):
    broken = tmp_path / "taxonomy.toml"
    broken.write_text('version = 1\n[[label]\nid = "fear"\n', encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_taxonomy(broken)


def _empty_first_client_list(text: str) -> str:
    start = text.index("client = [")
    end = text.index("]", start)
    return text[:start] + "client = [" + text[end:]
