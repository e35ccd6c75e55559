"""What the localiser reads from git beyond one tree: co-change history (never past the base commit),
and repositories whose blobs cannot all be read."""

from __future__ import annotations

import json
import shutil
import subprocess

from sweagent.localize import LocalizeConfig, localize_repo, snapshot
from sweagent.localize.cochange import HistoryReader, count_pairs
from sweagent.localize.snapshot import read_git_files
from tests.helpers.repos import commit_files, git, make_repo
from tests.localize.dataset import make_fixture_dataset
from tests.localize.test_cli import run

BASE_FILES = {
    "pkg/__init__.py": "",
    "pkg/schema.py": "def build_schema(model):\n    return {'fields': list(model)}\n",
    "pkg/serializer.py": "def serialize_record(record):\n    return dict(record)\n",
    "pkg/cache.py": "def cached_lookup(key):\n    return None\n",
    "pkg/unrelated.py": "def other():\n    return 1\n",
}
ISSUE = "`build_schema` drops nested fields of a model"


def history_repo(tmp_path):
    """schema.py and serializer.py change together four times up to the base (the first commit adds
    every file); after the base, schema.py changes five times with cache.py (that history must not
    reach the ranking at the base)."""
    repo = make_repo(tmp_path / "hist", BASE_FILES)
    for i in range(3):
        commit_files(
            repo,
            {
                "pkg/schema.py": BASE_FILES["pkg/schema.py"] + f"# schema rev {i}\n",
                "pkg/serializer.py": BASE_FILES["pkg/serializer.py"] + f"# serializer rev {i}\n",
            },
            f"schema and serializer {i}",
        )
    commit_files(repo, {"pkg/unrelated.py": "def other():\n    return 2\n"}, "unrelated")
    base = git(repo, "rev-parse", "HEAD").strip()
    for i in range(5):
        commit_files(
            repo,
            {
                "pkg/schema.py": BASE_FILES["pkg/schema.py"] + f"# later {i}\n",
                "pkg/cache.py": BASE_FILES["pkg/cache.py"] + f"# later {i}\n",
            },
            f"schema and cache {i}",
        )
    return repo, base


def no_cache() -> LocalizeConfig:
    return LocalizeConfig(memory_cache=0)


def test_count_pairs_thresholds():
    commits = (
        [["a.py", "b.py"]] * 3 + [["a.py"]] * 3 + [["a.py", "c.py"]] * 2 + [["x.py"] * 1 + ["y.py"] * 30]
    )
    history = count_pairs(commits, max_files=20, min_support=3, min_confidence=0.3, keep=3)
    assert history.commits == 9 and history.usable == 8  # the 31-file commit is left out
    assert history.of("a.py") == [("b.py", 0.375, 3)]  # 3 of a.py's 8 commits; c.py has support 2 only
    assert history.of("b.py") == [("a.py", 1.0, 3)]
    assert history.of("c.py") == []


def test_partner_of_the_top_file_is_surfaced_from_history_before_the_base(tmp_path):
    repo, base = history_repo(tmp_path)
    result = localize_repo(repo, base, ISSUE, top=5, config=no_cache())
    assert result.files[0].path == "pkg/schema.py"
    partner = next(h for h in result.files if h.path == "pkg/serializer.py")
    cochange = next(s for s in partner.signals if s.signal == "cochange")
    assert cochange.detail == "changed with pkg/schema.py in 4 commits (P=1.00)"
    assert result.files[1].path == "pkg/serializer.py"
    # the five later commits pairing schema.py with cache.py are after the base: invisible there
    assert "cochange" not in {s.signal for h in result.files if h.path == "pkg/cache.py" for s in h.signals}
    assert result.stats["cochange"] == {"commits": 5, "usable": 5}
    # at the newest commit that history exists, and cache.py becomes the stronger partner
    later = localize_repo(repo, None, ISSUE, top=5, config=no_cache())
    assert later.files[1].path == "pkg/cache.py"


def test_history_reader_never_reads_past_the_commit(tmp_path):
    repo, base = history_repo(tmp_path)
    history = HistoryReader(repo, base, 100).result(min_support=2, min_confidence=0.0)
    assert history.commits == 5
    assert "pkg/cache.py" not in {p for partners in history.partners.values() for p, _, _ in partners}
    later = HistoryReader(repo, "HEAD", 100).result(min_support=2, min_confidence=0.0)
    assert ("pkg/cache.py", 0.667, 6) in later.of("pkg/schema.py")
    off = localize_repo(repo, base, ISSUE, config=LocalizeConfig(memory_cache=0, cochange_commits=0))
    assert off.stats["cochange"] is None
    assert all(s.signal != "cochange" for h in off.files for s in h.signals)


def _drop_object(repo, path: str) -> None:
    sha = git(repo, "rev-parse", f"HEAD:{path}").strip()
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()


def test_a_missing_blob_is_skipped_and_counted(tmp_path):
    repo = make_repo(tmp_path / "broken", BASE_FILES)
    _drop_object(repo, "pkg/serializer.py")
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-l", "HEAD"], capture_output=True, text=True
    )
    assert "BAD" in listing.stdout  # what git itself reports for the missing blob
    files = read_git_files(repo, "HEAD")
    assert files.unreadable == ["pkg/serializer.py"]
    assert set(files) == set(BASE_FILES) - {"pkg/serializer.py"}
    result = localize_repo(repo, None, ISSUE, config=no_cache())
    assert result.files[0].path == "pkg/schema.py"
    assert result.stats["unreadable_blobs"] == 1
    assert any("could not be read from git" in w and "pkg/serializer.py" in w for w in result.warnings)


def test_two_readers_read_what_one_reads(tmp_path, monkeypatch):
    files = {**BASE_FILES, **{f"pkg/mod{i}.py": f"def f{i}():\n    return {i}\n" * (i + 1) for i in range(9)}}
    repo = make_repo(tmp_path / "split", files)
    _drop_object(repo, "pkg/mod4.py")
    one = read_git_files(repo, "HEAD")
    monkeypatch.setattr(snapshot, "PARALLEL_READ_MIN_BYTES", 0)
    two = read_git_files(repo, "HEAD")
    assert two == one and set(one) == set(files) - {"pkg/mod4.py"}
    assert two.unreadable == one.unreadable == ["pkg/mod4.py"]


def test_partial_clone_without_its_remote(tmp_path):
    """A blob-filtered clone whose remote is gone: `ls-tree -l` fails outright; what is local is read."""
    source = make_repo(tmp_path / "source", {**BASE_FILES, "pkg/big.py": "x = 1\n" * 200})
    git(source, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--no-checkout", "--filter=blob:limit=200", f"file://{source}", str(clone)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(source)
    assert subprocess.run(
        ["git", "-C", str(clone), "ls-tree", "-r", "-l", "HEAD"], capture_output=True
    ).returncode
    files = read_git_files(clone, "HEAD")
    assert files.unreadable == ["pkg/big.py"]
    assert "pkg/schema.py" in files
    assert localize_repo(clone, None, ISSUE, config=no_cache()).files[0].path == "pkg/schema.py"


def test_cli_warns_about_unreadable_blobs_and_still_ranks(tmp_path, capsys):
    repo = make_repo(tmp_path / "broken", BASE_FILES)
    _drop_object(repo, "pkg/cache.py")
    code, out, err = run(capsys, "localize", "--repo", str(repo), "--issue", ISSUE, "--json", "--no-cache")
    assert code == 0
    assert "warning: 1 file(s) could not be read from git" in err
    data = json.loads(out)
    assert data["files"][0]["path"] == "pkg/schema.py"
    assert data["stats"]["unreadable_blobs"] == 1


def test_bench_runs_through_a_repository_with_a_missing_blob(tmp_path, capsys):
    dataset, repos = make_fixture_dataset(tmp_path)
    tools = repos / "acme__textkit"
    _drop_object(tools, "textkit/__init__.py")
    code, out, err = run(capsys, "bench", "localize", "--dataset", str(dataset), "--repos", str(repos))
    assert code == 0, err
    data = json.loads(out)
    assert data["instances"] == len(dataset.read_text().splitlines())
    assert data["per_repo"]["acme/textkit"]["files"]["ours"]["all@1"] == 1.0
