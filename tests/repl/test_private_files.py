"""What the REPL leaves on disk is private: the history file (0600, its folder 0700) keeps command words only,
and `save` creates its file 0600, whatever the umask."""

from __future__ import annotations

import contextlib
import os
import stat

from repl_helpers import run_repl

from stomper_cli.repl_prompt import open_history
from stomper_cli.repl_session import Session


@contextlib.contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_history_file_is_0600_in_a_0700_folder_under_a_permissive_umask(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with umask(0):
        open_history(Session(None))
    assert mode(tmp_path / "state" / "stomper") == 0o700
    assert mode(tmp_path / "state" / "stomper" / "repl_history") == 0o600


def test_an_existing_history_file_is_tightened_and_an_existing_folder_left_alone(tmp_path, monkeypatch):
    folder = tmp_path / "stomper"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (folder / "repl_history").write_text("+status\n")
    os.chmod(folder / "repl_history", 0o644)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    open_history(Session(None))
    assert mode(folder) == 0o755
    assert mode(folder / "repl_history") == 0o600
    assert (folder / "repl_history").read_text() == "+status\n"


def test_history_keeps_command_words_not_bodies_nor_header_values(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    history = open_history(Session(None))
    typed = {
        "send /queue/a secret body": "send /queue/a",
        "send /queue/a 'quoted secret' --content-type text/plain": "send /queue/a --content-type text/plain",
        "send /queue/a -H authorization:Bearer-S3cret --header=x-token:S3cret -Hx-k:S3cret --body S3cret": "send /queue/a",
        "send /queue/a --body=S3cret --body-file data.bin": "send /queue/a --body-file data.bin",
        "send '/queue/with space' <<": "send '/queue/with space' <<",
        "send /queue/a --content-type application/json <<END": "send /queue/a --content-type application/json <<END",
        "subscribe /queue/b --ack client -H 'selector:token = S3cret'": "subscribe /queue/b --ack client",
        "ack --all": "ack --all",
        "receipts on 5": "receipts on 5",
        "send /queue/a 'unbalanced S3cret": "send",
        "sned /queue/a S3cret": "sned",
        "# a comment with S3cret": None,
    }
    for line in typed:
        history.append_string(line)
    stored = (tmp_path / "stomper" / "repl_history").read_text()
    assert "S3cret" not in stored and "secret" not in stored
    assert [line[1:] for line in stored.splitlines() if line.startswith("+")] == [kept for kept in typed.values() if kept]
    assert list(history.get_strings())[-1] == "# a comment with S3cret"  # recalled whole within the run


def test_save_creates_a_0600_file_under_a_permissive_umask(fake_broker, tmp_path):
    saved = tmp_path / "session.stomp"
    with umask(0):
        run = run_repl(fake_broker.url, f"send /queue/x body\nsave {saved}\n", tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert mode(saved) == 0o600
    assert b"\nbody\0" in saved.read_bytes()
