"""The ``banjian`` command line on a database nobody migrated: a sentence that says what to do, no
traceback."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from web.cli import main


@pytest.mark.parametrize("command", [["deploy"], ["demo"], ["serve"],
                                     ["create-user", "someone", "--region", "110000", "--role", "reviewer",
                                      "--password", "a-Long-passphrase-42"]])
def test_commands_on_an_unmigrated_database_say_run_db_upgrade_first(tmp_path, monkeypatch, command):
    monkeypatch.setenv("BANJIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert "请先运行 banjian db-upgrade" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_after_db_upgrade_the_same_command_works(tmp_path, monkeypatch):
    monkeypatch.setenv("BANJIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    assert CliRunner().invoke(main, ["db-upgrade"]).exit_code == 0
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0 and "file(s) valid" in result.output


def test_validate_needs_no_database(tmp_path, monkeypatch):
    """A designer checks BPMN files before any database exists: the files are checked on their own."""
    monkeypatch.setenv("BANJIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0 and "file(s) valid" in result.output
