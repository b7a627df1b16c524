import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.taxonomy import LABEL_IDS

runner = CliRunner()

ENTRY = ("Cancelled on her again, third week running. Work keeps eating my Thursdays and "
         "honestly I'm dreading the part where she asks about my dad.")


def tag_json(*args, input=None) -> dict:
    result = runner.invoke(app, ["tag", "--json", *args], input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_tag_json_follows_the_contract():
    out = tag_json(ENTRY)
    assert set(out["scores"]) == set(LABEL_IDS)
    assert all(0.0 <= v <= 1.0 for v in out["scores"].values())
    assert out["crisis"] is False
    assert set(out["labels"]) <= set(LABEL_IDS)
    assert [out["scores"][k] for k in out["labels"]] == sorted((out["scores"][k] for k in out["labels"]), reverse=True)
    assert set(out["evidence"]) == set(out["labels"])
    for spans in out["evidence"].values():
        for span in spans:
            assert ENTRY[span["start"]:span["end"]] == span["text"]


def test_cli_tag_finds_the_obvious_barrier():
    out = tag_json("I've cancelled my last four sessions and rescheduled the one before that twice")
    assert "inconsistency" in out["labels"]


def test_cli_tag_reads_piped_stdin_like_an_argument():
    assert tag_json(input=ENTRY)["scores"] == tag_json(ENTRY)["scores"]


def test_cli_tag_empty_input_is_a_one_line_error():
    result = runner.invoke(app, ["tag"], input="   \n")
    assert result.exit_code == 2
    assert result.stderr.startswith("unstuck: no text given")
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_tag_human_view_shows_names_and_next_steps():
    result = runner.invoke(app, ["tag", "--for", "therapist", "I've cancelled my last four sessions in a row"])
    assert result.exit_code == 0
    assert "Inconsistent attendance (inconsistency" in result.stdout
    assert "next steps for the therapist:" in result.stdout
    assert "No crisis language was found" in result.stdout
    assert "does not diagnose" in result.stdout


def test_cli_tag_says_plainly_when_nothing_was_found():
    result = runner.invoke(app, ["tag", "made pancakes with my nephew, the dog stole one"])
    assert "No barrier to therapy found" in result.stdout


def test_cli_tag_crisis_leads_with_resources_for_the_region():
    result = runner.invoke(app, ["tag", "--region", "uk", "I keep thinking everyone would be better off without me"])
    assert result.exit_code == 0
    first = result.stdout.strip().splitlines()[0]
    assert "at risk" in first
    assert "116 123" in result.stdout and "999" in result.stdout


def test_cli_tag_crisis_json_lists_the_matched_phrases():
    text = "honestly I want to kill myself"
    out = tag_json(text)
    assert out["crisis"] is True
    assert any(text[m["start"]:m["end"]] == m["text"] for m in out["crisis_matches"])


def test_cli_tag_a_flag_from_the_crisis_model_alone_also_leads_with_resources(monkeypatch):
    from unstuck.model import tagger
    from unstuck.model.nlp import get_nlp
    from unstuck.model.safety import CrisisScreen

    class Certain:
        threshold = 0.5

        def probabilities(self, texts):
            return [0.9] * len(texts)

        def window_probabilities(self, sentences, windows):
            return [[0.9] * len(w) for w in windows]

    monkeypatch.setattr(tagger, "default_screen", lambda: CrisisScreen(get_nlp(), model=Certain()))
    text = "Long day. Made soup and watched the rain."  # no rule matches: only the (stub) model flags it
    result = runner.invoke(app, ["tag", "--region", "uk", text])
    assert "at risk" in result.stdout.strip().splitlines()[0]
    out = tag_json(text)
    assert out["crisis"] is True and [m["rule"] for m in out["crisis_matches"]] == ["crisis_model"]


def test_cli_labels_lists_every_id():
    result = runner.invoke(app, ["labels", "--json"])
    assert [row["id"] for row in json.loads(result.stdout)] == list(LABEL_IDS)


def test_cli_console_script_runs_as_a_real_process(tmp_path):
    env = {**os.environ, "UNSTUCK_HOME": str(tmp_path)}
    done = subprocess.run(["unstuck", "tag", "--json", ENTRY], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["scores"]) == set(LABEL_IDS)
    # the console script leaves without interpreter teardown: statuses and messages must survive it
    empty = subprocess.run(["unstuck", "tag", " "], capture_output=True, text=True, env=env, timeout=120)
    assert empty.returncode == 2 and empty.stderr.startswith("unstuck: no text given") and not empty.stdout
    usage = subprocess.run(["unstuck", "tag", "--no-such-option"], capture_output=True, text=True, env=env, timeout=120)
    assert usage.returncode == 2 and "--no-such-option" in usage.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["labels"], ["labels", "Fear"], ["models"],
                                  ["models", "use", "shipped"], ["models", "use", "v9"], ["examples"]])
def test_cli_commands_that_tag_nothing_do_not_import_spacy_or_sklearn(args):
    code = ("import sys; from unstuck.cli.app import app; sys.argv=['unstuck', *%r]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('spacy','sklearn') if m in sys.modules]\nprint('HEAVY', heavy)" % (args,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in done.stdout, done.stdout[-300:]


def test_cli_version_and_short_help():
    from importlib.metadata import version

    assert runner.invoke(app, ["--version"]).stdout == f"unstuck {version('unstuck')}\n"
    assert runner.invoke(app, ["-h"], prog_name="unstuck").stdout.startswith("Usage: unstuck [OPTIONS] COMMAND")
    assert runner.invoke(app, ["models", "-h"], prog_name="unstuck").stdout.startswith("Usage: unstuck models")


def test_cli_train_help_shows_one_percent_sign():
    out = runner.invoke(app, ["train", "--help"]).stdout
    assert "25/50/75/100% of" in " ".join(out.split()) and "%%" not in out


@pytest.mark.parametrize("given", ["fear", "FEAR", "Fear", " fear "])
def test_cli_labels_match_in_any_case(given):
    result = runner.invoke(app, ["labels", given, "--json"])
    assert result.exit_code == 0 and [row["id"] for row in json.loads(result.stdout)] == ["fear"]


@pytest.mark.parametrize("args", [["labels", "feer"], ["explain", "--label", "feer", "x"]])
def test_cli_unknown_label_is_one_line_with_a_did_you_mean(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == ("unstuck: unknown label 'feer' (did you mean fear?); "
                             "see `unstuck labels` for the 12 tag ids\n")


def test_cli_labels_accepts_a_tag_name():
    result = runner.invoke(app, ["labels", "inconsistent attendance", "--json"])
    assert [row["id"] for row in json.loads(result.stdout)] == ["inconsistency"]


def test_cli_explain_without_label_explains_every_tag_given():
    given = tag_json(ENTRY)["labels"]
    result = runner.invoke(app, ["explain", ENTRY])
    assert result.exit_code == 0 and len(given) >= 2
    assert [line.split(":")[0] for line in result.stdout.splitlines() if "threshold" in line] == given
    one = runner.invoke(app, ["explain", "--label", "FEAR", ENTRY])
    assert one.stdout.startswith("fear: score ")


def test_cli_explain_says_when_no_tag_was_given():
    result = runner.invoke(app, ["explain", "made pancakes with my nephew, the dog stole one"])
    assert result.exit_code == 0 and result.stdout.startswith("no tag was given to this entry")


def test_cli_tag_short_entry_gets_the_top_two_steps_per_tag_and_all_on_request():
    from unstuck.data.taxonomy import default_taxonomy

    text = "I've cancelled my last four sessions in a row"
    short = runner.invoke(app, ["tag", text]).stdout
    full = runner.invoke(app, ["tag", "--all", text]).stdout
    steps = default_taxonomy()["inconsistency"].client_steps
    assert short.count("      - ") == 2 * short.count("\n* ") and "more next steps: --all)" in short
    assert all(" ".join(step.split()[:6]) in " ".join(full.split()) for step in steps)
    assert "--all)" not in full


def test_cli_models_use_unknown_version_lists_the_known_ones():
    result = runner.invoke(app, ["models", "use", "v9"])
    assert result.exit_code == 2
    assert result.stderr == "unstuck: no model 'v9'; known: shipped (see `unstuck models`)\n"
