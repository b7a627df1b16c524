"""A number every time: region from --region, UNSTUCK_REGION, the saved preference, the locale, else all."""

import json
import re

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.resources import UnknownRegion, help_lines, known_regions, region_from_locale
from unstuck.data.region import chosen_region, save_region

runner = CliRunner()
AT_RISK = "I keep thinking everyone would be better off without me"
PHONE = re.compile(r"\b\d[\d -]{1,12}\d\b|\b\d{3}\b")  # 988, 116 123, 1-800-799-7233, 000...


@pytest.fixture(autouse=True)
def no_locale(monkeypatch):
    """Tests decide the locale and region themselves."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "UNSTUCK_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("environ, region", [
    ({"LANG": "en_GB.UTF-8"}, "uk"), ({"LANG": "en_US.utf8"}, "us"), ({"LANG": "fr_CA.UTF-8"}, "ca"),
    ({"LANG": "en_IE"}, "ie"), ({"LANG": "en_AU.UTF-8"}, "au"), ({"LANG": "en_NZ.UTF-8"}, "nz"),
    ({"LANG": "de_DE.UTF-8"}, "eu"), ({"LANG": "fr_FR@euro"}, "eu"), ({"LANG": "C.UTF-8"}, None),
    ({"LANG": "POSIX"}, None), ({"LANG": "ja_JP.UTF-8"}, None), ({}, None),
    ({"LC_ALL": "en_AU.UTF-8", "LANG": "en_US.UTF-8"}, "au"), ({"LC_MESSAGES": "en_NZ", "LANG": "en_US"}, "nz"),
])
def test_region_from_locale_reads_the_country(environ, region):
    assert region_from_locale(environ) == region


def test_region_explicit_then_environment_then_saved_then_locale():
    save_region("ie")
    assert chosen_region("AU", {"UNSTUCK_REGION": "nz", "LANG": "en_US"}) == "au"
    assert chosen_region(None, {"UNSTUCK_REGION": "nz", "LANG": "en_US"}) == "nz"
    assert chosen_region(None, {"LANG": "en_US"}) == "ie"


def test_region_unknown_is_refused_or_passed_over():
    with pytest.raises(UnknownRegion, match="expected one of us, ca, uk, ie, au, nz, eu"):
        chosen_region("fr", {})
    assert chosen_region(None, {"UNSTUCK_REGION": "fr", "LANG": "en_GB.UTF-8"}, strict=False) == "uk"


def test_region_none_lists_every_region_with_a_number():
    lines = help_lines(None, crisis=True, safety=False)
    assert {line.region for line in lines} == set(known_regions())
    assert all(PHONE.search(line.reach) for line in lines)


@pytest.mark.parametrize("region, first", [
    ("uk", "0808 2000 247"), ("us", "1-800-799-7233"), ("au", "1800 737 732"),
    ("ca", "911"), ("ie", "112 or 999"), ("nz", "111"), ("eu", "112"),  # no abuse line listed: emergency first
])
def test_region_safety_leads_with_abuse_lines_or_the_emergency_number(region, first):
    lines = help_lines(region, crisis=False, safety=True)
    assert first in lines[0].reach
    assert all(line.region == region for line in lines)


def test_region_every_line_of_every_region_has_a_number():
    for region in known_regions():
        for line in help_lines(region, crisis=True, safety=True):
            assert PHONE.search(line.reach), (region, line)


def test_region_cli_unknown_region_exits_2_listing_the_known_ones():
    result = runner.invoke(app, ["tag", "--region", "fr", AT_RISK])
    assert result.exit_code == 2
    assert result.stderr.strip() == "unstuck: unknown region 'fr'; expected one of us, ca, uk, ie, au, nz, eu"
    assert runner.invoke(app, ["region", "set", "mars"]).exit_code == 2


def test_region_cli_without_a_region_shows_every_regions_numbers():
    result = runner.invoke(app, ["tag", AT_RISK])
    assert result.exit_code == 0
    for number in ("988", "116 123", "13 11 14", "1737", "112"):
        assert number in result.stdout


def test_region_cli_saved_region_reaches_tag_json_and_batch(tmp_path):
    assert runner.invoke(app, ["region", "set", "UK"]).stdout.strip() == "region set to uk"
    assert runner.invoke(app, ["region", "show"]).stdout.startswith("uk (from saved in")
    out = json.loads(runner.invoke(app, ["tag", "--json", AT_RISK]).stdout)
    assert out["crisis"] is True
    assert {r["region"] for r in out["resources"]} == {"uk"}
    assert any("116 123" in r["reach"] for r in out["resources"])
    entries = tmp_path / "in.jsonl"
    entries.write_text(json.dumps({"id": "a", "text": AT_RISK}) + "\n"
                       + json.dumps({"id": "b", "text": "made soup, watched the rain"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(entries), "-o", "-", "-q"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["crisis"] and {r["region"] for r in rows[0]["resources"]} == {"uk"}
    assert rows[1]["resources"] == []
    assert runner.invoke(app, ["region", "clear"]).stdout.strip() == "saved region cleared"


def test_region_cli_locale_picks_the_region(monkeypatch):
    monkeypatch.setenv("LANG", "en_AU.UTF-8")
    out = json.loads(runner.invoke(app, ["tag", "--json", AT_RISK]).stdout)
    assert {r["region"] for r in out["resources"]} == {"au"}
