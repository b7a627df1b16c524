"""Real, public, human-written text: rebuild the texts behind `data/real/*.jsonl` from public copies.

The repository commits ids and labels only; this module reads the texts from copies the user fetched
(or installed) and never downloads anything. Held-out items (`shared/holdout/`) are never read in.

    python -m unstuck.training.real_sources --counsel-chat DIR --cssrs CSV --out DIR

`--counsel-chat` is a clone of github.com/nbertagnolli/counsel-chat, `--cssrs` the file
`data/500_Reddit_users_posts_labels.csv` of github.com/T-Lind/health-backend; the Reddit posts of
Low et al. (2020) come from the `construct-tracker` package on PyPI (`pip install --no-deps
construct-tracker`: its data files only, its pins would downgrade numpy and spaCy):
its 27-subreddit file and the Reddit rows of its `rally_point_reddit_mental_health` files.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import random
import re
import sys
from pathlib import Path
from typing import Iterable, Iterator

# Held-out ids, copied from shared/holdout/ so that `unstuck data check` works without shared/.
from unstuck.data.output import atomic_output
from unstuck.data.real import HELD_OUT_COUNSELCHAT, HELD_OUT_CSSRS_USERS, RealItem

csv.field_size_limit(2**31 - 1)

_WORDS = re.compile(r"\S+")


def _words(text: str) -> int:
    return len(_WORDS.findall(text))


def counsel_chat_items(repo: Path) -> Iterator[RealItem]:
    """Questions people sent to counsellors (MIT): one item per question, title then text."""
    main = repo / "data" / "counselchat-data.csv"
    seen_urls: set[str] = set()
    held_urls: set[str] = set()
    held_texts: set[str] = set()
    rows = list(csv.DictReader(main.open(encoding="utf-8", newline="")))
    for row in rows:
        if row["questionID"] in HELD_OUT_COUNSELCHAT:
            held_urls.add(row["questionUrl"])
            held_texts.add(_fold(row["questionText"]))
    for row in rows:
        qid, url = row["questionID"], row["questionUrl"]
        if qid in HELD_OUT_COUNSELCHAT or url in seen_urls or _fold(row["questionText"]) in held_texts:
            continue
        seen_urls.add(url)
        yield RealItem(f"cc:{qid}", "counsel_chat", f"cc:{qid}", _question(row["questionTitle"], row["questionText"]))
    later = repo / "data" / "20200325_counsel_chat.csv"
    if later.exists():
        for row in csv.DictReader(later.open(encoding="utf-8", newline="")):
            url = row["questionLink"]
            if url in seen_urls or url in held_urls or _fold(row["questionText"]) in held_texts:
                continue
            seen_urls.add(url)
            slug = url.rstrip("/").rsplit("/", 1)[-1]
            yield RealItem(f"cc2020:{slug}", "counsel_chat", f"cc2020:{slug}",
                           _question(row["questionTitle"], row["questionText"]))


def cssrs_items(path: Path) -> Iterator[RealItem]:
    """Reddit posts of users in the C-SSRS set (Gaur et al. 2019), one item per post, held-out users skipped."""
    for row in csv.DictReader(path.open(encoding="utf-8", newline="")):
        user = row["User"]
        if user in HELD_OUT_CSSRS_USERS:
            continue
        try:
            posts = ast.literal_eval(row["Post"])
        except (ValueError, SyntaxError):
            continue
        for index, post in enumerate(posts):
            if isinstance(post, str) and post.strip():
                yield RealItem(f"cssrs:{user}:{index}", "cssrs", f"cssrs:{user}", post.strip())


def rmhd_items(csv_path: Path | None = None) -> Iterator[RealItem]:
    """Reddit posts from 27 subreddits (Low et al. 2020, CC BY 4.0), as shipped by construct-tracker."""
    if csv_path is None:
        import construct_tracker  # an optional, build-time dependency

        csv_path = (Path(construct_tracker.__file__).parent / "data" / "datasets" / "reddit_27_subreddits"
                    / "rmhd_27subreddits_260posts_test.csv")
    for row in csv.DictReader(csv_path.open(encoding="utf-8", newline="")):
        text = (row.get("post") or "").strip()
        if text:
            yield RealItem(f"rmhd:{row['']}", "rmhd", f"rmhd:{row['author']}", text,
                           detail=row["subreddit"])


RALLYPOINT_FILES = (("train", "rallypoint_reddit_mentalhealth_train_3632.csv"),
                    ("test", "rallypoint_reddit_mentalhealth_test_908.csv"))


def rmhd_rallypoint_items(folder: Path | None = None) -> Iterator[RealItem]:
    """More Reddit posts of Low et al. (2020, CC BY 4.0): the rows whose `source` is `reddit <subreddit>` in
    construct-tracker's `rally_point_reddit_mental_health` files (the RallyPoint and TalkLife rows there are
    not read: they carry no license). Ids `rmhd:rp-<split>:<row>`, the row index of the CSV's first column;
    the files name no author, so each post is its own group. They join the `rmhd` source."""
    if folder is None:
        import construct_tracker  # an optional, build-time dependency

        folder = Path(construct_tracker.__file__).parent / "data" / "datasets" / "rally_point_reddit_mental_health"
    for split, name in RALLYPOINT_FILES:
        path = Path(folder) / name
        if not path.exists():
            continue
        for row in csv.DictReader(path.open(encoding="utf-8", newline="")):
            kind, _, subreddit = (row.get("source") or "").partition(" ")
            text = (row.get("doc") or "").strip()
            if kind == "reddit" and text:
                item_id = f"rmhd:rp-{split}:{row['']}"
                yield RealItem(item_id, "rmhd", item_id, text, detail=subreddit)


def _question(title: str, text: str) -> str:
    title, text = title.strip(), text.strip()
    if not title or _fold(text).startswith(_fold(title)):
        return text
    return f"{title}\n\n{text}"


def _fold(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


THERAPY_WORDS = re.compile(r"\b(therap|counsel|psychiatr|psycholog|shrink|session|CBT|DBT|EMDR)", re.I)


# A post that names none of these almost never carries a tag: 22 of the 1,129 hand-labeled real items
# without them do (data/real/README.md). Unlabeled ones teach the model what real text with no barrier
# reads like: depression, money, school, a game, with no therapy in it.
HELP_WORDS = re.compile(
    r"therap|counsel|psychiatr|psycholog|doctor|\bdr\b|\bgp\b|session|appointment|\bmeds?\b|medicat|treatment|"
    r"rehab|hospital|clinic|\bhelp|support group|program|\baa\b|\bna\b|sponsor|diagnos|prescri|pill|nurse|"
    r"social worker|mental health (service|team)|crisis|hotline|inpatient|outpatient|\bward\b|dbt|cbt|emdr|"
    r"sober|relapse|recover", re.I)
WEAK_NEGATIVES = 3000


def weak_negatives(items: Iterable[RealItem], labeled: set[str], n: int = WEAK_NEGATIVES,
                   seed: int = 0) -> list[RealItem]:
    """`n` unlabeled posts, drawn reproducibly, with no word of `HELP_WORDS` (the no-barrier posts
    `data.real.load_weak` trains on)."""
    pool = [i for i in items if i.id not in labeled and 20 <= len(i.text) <= 4000 and not HELP_WORDS.search(i.text)]
    random.Random(seed).shuffle(pool)
    return pool[:n]


def sample(items: Iterable[RealItem], n: int, *, seed: int, max_words: int, prefer: re.Pattern | None = None,
           prefer_share: float = 0.0, per_group: int = 10**9) -> list[RealItem]:
    """A reproducible sample: at most `per_group` per writer, `prefer_share` of it matching `prefer`."""
    rng = random.Random(seed)
    pool = [i for i in items if 5 <= _words(i.text) <= max_words]
    rng.shuffle(pool)
    chosen: list[RealItem] = []
    per: dict[str, int] = {}
    wanted = [(lambda i: bool(prefer.search(i.text)), int(n * prefer_share))] if prefer else []
    wanted.append((lambda i: True, n))
    for accept, quota in wanted:
        for item in pool:
            if len(chosen) >= quota:
                break
            if item in chosen or per.get(item.group, 0) >= per_group or not accept(item):
                continue
            chosen.append(item)
            per[item.group] = per.get(item.group, 0) + 1
    return chosen


def write_jsonl(items: Iterable[RealItem], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_output(str(path)) as handle:
        for item in items:
            handle.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def agreement(first: list, second: list) -> dict:
    """Per tag (and crisis, safety): how often two labelers agree on the items both labeled, Cohen's
    kappa, and F1 of one against the other; plus micro F1 over tags."""
    from unstuck.data.taxonomy import LABEL_IDS

    one = {label.id: label for label in first}
    pairs = [(one[label.id], label) for label in second if label.id in one]
    n = len(pairs)
    out: dict = {"n": n, "flags": {}}
    for flag in [*LABEL_IDS, "crisis", "safety"]:
        def has(label, flag=flag):
            return flag in label.labels if flag in LABEL_IDS else getattr(label, flag)
        a, b = [has(x) for x, _ in pairs], [has(y) for _, y in pairs]
        both, pa, pb = sum(x and y for x, y in zip(a, b)), sum(a), sum(b)
        observed = sum(x == y for x, y in zip(a, b)) / n if n else 0.0
        chance = (pa / n) * (pb / n) + (1 - pa / n) * (1 - pb / n) if n else 1.0
        out["flags"][flag] = {"first": pa, "second": pb, "both": both, "agreement": observed,
                              "kappa": (observed - chance) / (1 - chance) if chance < 1 else None,
                              "f1": 2 * both / (pa + pb) if pa + pb else None}
    tp = sum(len(set(x.labels) & set(y.labels)) for x, y in pairs)
    total = sum(len(x.labels) + len(y.labels) for x, y in pairs)
    out["micro_f1"] = 2 * tp / total if total else None
    out["untagged_agreement"] = sum((not x.labels) == (not y.labels) for x, y in pairs) / n if n else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counsel-chat", type=Path, help="a clone of nbertagnolli/counsel-chat")
    parser.add_argument("--cssrs", type=Path, help="500_Reddit_users_posts_labels.csv from T-Lind/health-backend")
    parser.add_argument("--rmhd", type=Path, help="rmhd_27subreddits_260posts_test.csv (default: construct-tracker's)")
    parser.add_argument("--rallypoint", type=Path, help="the folder of rallypoint_reddit_mentalhealth_*.csv (default: "
                        "construct-tracker's, unless --rmhd names another file)")
    parser.add_argument("--out", type=Path, help="folder for <source>.jsonl with texts")
    parser.add_argument("--agreement", action="store_true", help="print the two labelers' agreement and stop")
    args = parser.parse_args(argv)
    from unstuck.data.real import REAL_DIR, WEAK_PREFIX, read_labels

    if args.agreement:
        first = [label for path in sorted(REAL_DIR.glob("*.jsonl")) for label in read_labels(path)]
        print(json.dumps(agreement(first, read_labels(REAL_DIR / "agreement" / "second_labeler.jsonl")), indent=1))
        return 0
    if args.out is None:
        parser.error("--out is required")

    wanted = {label.id for path in sorted(REAL_DIR.glob("*.jsonl")) for label in read_labels(path)}
    found: dict[str, list[RealItem]] = {}
    sources = []
    if args.counsel_chat:
        sources.append(counsel_chat_items(args.counsel_chat))
    if args.cssrs:
        sources.append(cssrs_items(args.cssrs))
    rmhd = list(rmhd_items(args.rmhd))
    sources.append(rmhd)
    if args.rallypoint or args.rmhd is None:
        sources.append(rmhd_rallypoint_items(args.rallypoint))
    for items in sources:
        for item in items:
            if item.id in wanted:
                found.setdefault(item.source, []).append(item)
    for source, items in sorted(found.items()):
        print(f"{source}: {write_jsonl(items, args.out / f'{source}.jsonl')} texts", file=sys.stderr)
    weak = weak_negatives(rmhd, wanted)
    print(f"rmhd, unlabeled with no barrier: {write_jsonl(weak, args.out / f'{WEAK_PREFIX}rmhd.jsonl')} texts",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
