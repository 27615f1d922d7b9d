"""Files for people are written safely and privately (issue 9, items 9 and 10).

Before: an existing --out file was silently overwritten, a symlink planted at the fixed temporary
name made the export write through it, ``demo --out`` deleted whatever folder it was given, and
the database (with identity codes in clear), its WAL, payment files and letters were 0644 in a
0755 data folder.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.scenario import CLI_REVIEW, CLIENT_IBAN, HETU, cli_world

from valitystili.base import files
from valitystili.base.errors import ValidationError
from valitystili.cli import cli as valitystili_cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def open_umask():
    """Run with the common 022 umask, as a login shell has it; restored afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# --- files.stage ---------------------------------------------------------------------------------


def test_a_staged_file_appears_under_its_name_only_when_published(tmp_path, open_umask):
    out = tmp_path / "maksut.xml"
    staged = files.stage(out, b"<Document/>")
    [temporary] = [p for p in tmp_path.iterdir()]
    assert (out.exists(), temporary.name.startswith(".maksut.xml."), mode(temporary)) == (
        False, True, 0o600)
    staged.publish()
    assert (out.read_bytes(), mode(out), sorted(tmp_path.iterdir())) == (
        b"<Document/>", 0o600, [out])


def test_a_discarded_file_leaves_nothing(tmp_path):
    staged = files.stage(tmp_path / "maksut.xml", b"x")
    staged.discard()
    staged.discard()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_target_is_refused_unless_forced(tmp_path):
    out = tmp_path / "maksut.xml"
    out.write_bytes(b"yesterday")
    with pytest.raises(ValidationError) as refused:
        files.stage(out, b"today")
    assert str(refused.value) == f"{out} already exists (use --force to replace it)"
    assert (out.read_bytes(), sorted(tmp_path.iterdir())) == (b"yesterday", [out])
    files.stage(out, b"today", force=True).publish()
    assert out.read_bytes() == b"today"


def test_a_target_created_meanwhile_is_not_replaced_at_publish(tmp_path):
    out = tmp_path / "maksut.xml"
    staged = files.stage(out, b"ours")
    out.write_bytes(b"theirs")
    with pytest.raises(ValidationError, match="already exists"):
        staged.publish()
    assert (out.read_bytes(), sorted(tmp_path.iterdir())) == (b"theirs", [out])


def test_a_symlink_at_the_target_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    out = tmp_path / "maksut.xml"
    out.symlink_to(victim)
    for force in (False, True):
        with pytest.raises(ValidationError) as refused:
            files.stage(out, b"payments", force=force)
        assert str(refused.value) == f"{out} is a symbolic link: refusing to write through it"
    assert victim.read_bytes() == b"precious"


def test_a_symlink_planted_at_the_temporary_name_is_never_followed(tmp_path, monkeypatch):
    # The name is random; here it is made predictable to plant the link exactly there.
    monkeypatch.setattr(files.secrets, "token_hex", lambda _n: "0123456789abcdef")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    (tmp_path / ".maksut.xml.0123456789abcdef.tmp").symlink_to(victim)
    with pytest.raises(ValidationError) as refused:
        files.stage(tmp_path / "maksut.xml", b"payments")
    assert str(refused.value) == (f"could not create a temporary file in {tmp_path}: every name "
                                  "tried was taken")
    assert victim.read_bytes() == b"precious"
    assert not (tmp_path / "maksut.xml").exists()


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ValidationError) as refused:
        files.stage(tmp_path / "nowhere" / "maksut.xml", b"x")
    assert str(refused.value) == (f"cannot write maksut.xml: folder {tmp_path / 'nowhere'} "
                                  "does not exist")


# --- files.stage_all: a folder of files, all or none -------------------------------------------


def test_files_staged_together_appear_together_in_a_private_folder_made_for_them(tmp_path,
                                                                                 open_umask):
    folder = tmp_path / "kirjeet"
    staged = files.stage_all(folder, [("a.txt", b"A"), ("b.txt", b"B")])
    assert (mode(folder), sorted(p.suffix for p in folder.iterdir())) == (0o700, [".tmp", ".tmp"])
    staged.publish()
    staged.discard()
    assert [(p.name, p.read_bytes(), mode(p)) for p in sorted(folder.iterdir())] == [
        ("a.txt", b"A", 0o600), ("b.txt", b"B", 0o600)]


def test_one_existing_file_refuses_them_all_and_the_folder_made_is_removed(tmp_path):
    folder = tmp_path / "kirjeet"
    folder.mkdir()
    (folder / "b.txt").write_bytes(b"yesterday")
    with pytest.raises(ValidationError, match="b.txt already exists"):
        files.stage_all(folder, [("a.txt", b"A"), ("b.txt", b"B"), ("c.txt", b"C")])
    assert [(p.name, p.read_bytes()) for p in folder.iterdir()] == [("b.txt", b"yesterday")]


def test_a_failure_while_staging_removes_the_folder_made_for_the_files(tmp_path):
    def letters():
        yield "a.txt", b"A"
        raise ValidationError("the second letter could not be made")

    with pytest.raises(ValidationError, match="second letter"):
        files.stage_all(tmp_path / "kirjeet", letters())
    assert list(tmp_path.iterdir()) == []


def test_a_file_taken_meanwhile_unpublishes_the_others(tmp_path):
    folder = tmp_path / "kirjeet"
    staged = files.stage_all(folder, [("a.txt", b"A"), ("b.txt", b"B")])
    (folder / "b.txt").write_bytes(b"theirs")
    with pytest.raises(ValidationError, match="b.txt already exists"):
        staged.publish()
    assert [(p.name, p.read_bytes()) for p in folder.iterdir()] == [("b.txt", b"theirs")]


# --- the letter ----------------------------------------------------------------------------------


@pytest.fixture
def letter_world(cli):
    cli_world(cli)
    cli.ok("client", "open", "--hetu", HETU, "--name", "Maija Meikäläinen", "--iban",
           CLIENT_IBAN, "--criterion", "evictions", "--worker", "sanna", "--start", "1.10.2026",
           "--review", CLI_REVIEW,
           "--no-guardianship-need", "--no-subsidy-against-will", "--no-kela-pays-landlord",
           user="sanna")
    return cli


def test_the_letter_refuses_an_existing_file_and_replaces_it_with_force(letter_world, tmp_path,
                                                                        open_umask):
    cli = letter_world
    (tmp_path / "letters").mkdir()
    out = tmp_path / "letters" / "marraskuu.html"
    out.write_text("last month's letter", encoding="utf-8")
    refused = cli("report", "statement", "1", "--month", "2026-11", "--out", str(out),
                  user="hannu")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        2, "", f"valitystili: error: {out} already exists (use --force to replace it)\n")
    assert out.read_text(encoding="utf-8") == "last month's letter"
    replaced = cli("report", "statement", "1", "--month", "2026-11", "--out", str(out),
                   "--force", user="hannu")
    assert (replaced.exit_code, replaced.stderr) == (0, f"wrote {out}\n")
    assert "Maija Meikäläinen" in out.read_text(encoding="utf-8")
    assert (mode(out), [p.name for p in out.parent.iterdir()]) == (0o600, ["marraskuu.html"])


def test_a_new_letter_is_private(letter_world, tmp_path, open_umask):
    out = tmp_path / "marraskuu.html"
    letter_world.ok("report", "statement", "1", "--month", "2026-11", "--out", str(out),
                    user="hannu")
    assert mode(out) == 0o600


# --- demo --out ----------------------------------------------------------------------------------


def run_demo_cli(out: Path):
    return CliRunner().invoke(valitystili_cli, ["--format", "json", "demo", "--clients", "2",
                                                "--out", str(out)], catch_exceptions=False)


def test_demo_refuses_a_folder_it_did_not_make_and_leaves_it_untouched(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work", encoding="utf-8")
    result = run_demo_cli(folder)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"valitystili: error: {folder} is not empty and was not made by "
                             "the demo; give a new or empty folder with --out\n")
    assert [p.name for p in folder.iterdir()] == ["thesis.txt"]
    assert (folder / "thesis.txt").read_text(encoding="utf-8") == "years of work"


def test_demo_replaces_a_folder_an_earlier_demo_made(tmp_path, open_umask):
    folder = tmp_path / "demo"
    assert run_demo_cli(folder).exit_code == 0
    (folder / "payments" / "left-over.xml").write_text("old", encoding="utf-8")
    assert run_demo_cli(folder).exit_code == 0
    assert not (folder / "payments" / "left-over.xml").exists()
    assert (folder / ".valitystili-demo").is_file()
    assert (mode(folder), mode(folder / "demo.db"), mode(folder / "payments")) == (
        0o700, 0o600, 0o700)
    assert {mode(p) for p in (folder / "payments").iterdir()} == {0o600}


def test_demo_uses_an_empty_folder(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert run_demo_cli(folder).exit_code == 0
    assert (folder / "demo.db").is_file()


# --- private by default --------------------------------------------------------------------------


def invoke(*args: str, env: dict | None = None):
    environment = {"VALITYSTILI_USER": "root", **(env or {})}
    return CliRunner().invoke(valitystili_cli, list(args), env=environment,
                              catch_exceptions=False)


def test_the_default_data_folder_and_database_are_private(tmp_path, open_umask):
    result = invoke("db", "init", env={"XDG_DATA_HOME": str(tmp_path / "data"),
                                       "VALITYSTILI_DB": ""})
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "data" / "valitystili"
    created = sorted(p.name for p in folder.iterdir())
    assert "valitystili.store.db" in created
    assert mode(folder) == 0o700
    assert {name: mode(folder / name) for name in created} == {name: 0o600 for name in created}


def test_the_cli_leaves_the_callers_umask_as_it_was(tmp_path, open_umask):
    invoke("--db", str(tmp_path / "v.db"), "db", "init")
    assert os.umask(0o022) == 0o022


def test_a_readable_database_and_its_wal_are_made_private_when_opened(tmp_path, open_umask):
    database = tmp_path / "v.db"
    assert invoke("--db", str(database), "db", "init").exit_code == 0
    # Another process holds the database open in the middle of its work: -wal and -shm exist.
    other = sqlite3.connect(database)
    try:
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("BEGIN")
        other.execute("CREATE TABLE scratch (x)")
        other.commit()
        companions = [database, tmp_path / "v.db-wal", tmp_path / "v.db-shm"]
        for path in companions:
            path.chmod(0o644)
        result = invoke("--db", str(database), "user", "list")
        assert result.exit_code == 0, result.stderr
        assert [mode(path) for path in companions] == [0o600, 0o600, 0o600]
    finally:
        other.close()
