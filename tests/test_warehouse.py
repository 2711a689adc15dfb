"""Connection settings every caller of the warehouse gets, and how frames are inserted."""

from __future__ import annotations

import re
import shutil
import time

import duckdb
import pandas as pd
import pytest

from analytics import build, warehouse


def _setting(con, name: str):
    return con.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def _mebibytes(setting: str) -> float:
    """DuckDB's memory setting as it reports it ("488.2 MiB") or as it is set ("512MB"), in MiB."""
    amount, unit = re.fullmatch(r"([\d.]+)\s*([KMG]i?B)", setting).groups()
    return float(amount) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "KB": 1000 / 1024**2,
                            "MB": 1000**2 / 1024**2, "GB": 1000**3 / 1024**2}[unit]


def test_writer_caps_its_page_cache_and_readers_draw_no_progress_bar(tmp_path):
    target = tmp_path / "w.duckdb"
    con = warehouse.connect(target)
    try:
        # DuckDB reports the limit in its own units ("488.2 MiB" for 512MB); the default would be GiBs
        assert _mebibytes(_setting(con, "memory_limit")) <= 1024
        assert _setting(con, "enable_progress_bar") is False
        assert _setting(con, "TimeZone") == "UTC"
    finally:
        con.close()
    with warehouse.read_only(target, snapshot=False) as reader:
        assert _setting(reader, "enable_progress_bar") is False


def test_a_build_raises_the_writers_memory_cap_for_its_transaction(sample_warehouse, tmp_path):
    # its transaction keeps every temporary table it made until the commit: under the writer's cap a first
    # build over a million posts wrote hundreds of megabytes of them to the temporary folder
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    con = warehouse.connect(target)
    writers = _mebibytes(_setting(con, "memory_limit"))
    during: dict[str, float] = {}
    build.build(warehouse_file=target, connection=con,
                progress=lambda step: during.setdefault(step, _mebibytes(_setting(con, "memory_limit"))))
    assert writers == pytest.approx(_mebibytes(warehouse.WRITER_MEMORY_LIMIT), abs=0.1)
    steps = list(during)
    assert (steps[0], steps[-1]) == ("post changes", "publishing snapshot")  # from its first step to its publication
    assert list(during.values()) == pytest.approx([_mebibytes(warehouse.BUILD_MEMORY_LIMIT)] * len(during), abs=0.1)
    assert min(during.values()) > writers


def test_a_failed_insert_raises_its_own_error_not_the_aborted_transaction(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        con.execute("CREATE TABLE t (a VARCHAR)")
        con.execute("BEGIN TRANSACTION")
        # no UTF-8 for half a surrogate pair: DuckDB refuses the row, then every later statement
        with pytest.raises(duckdb.Error, match="surrogate") as failed:
            warehouse.insert_frame(con, "t", pd.DataFrame({"a": ["x\ud800"]}))
        assert "transaction is aborted" not in str(failed.value)
        con.execute("ROLLBACK")
        # the view went with the block, so the next insert registers it afresh
        assert warehouse.insert_frame(con, "t", pd.DataFrame({"a": ["fine"]})) == 1
        assert con.execute("SELECT a FROM t").fetchall() == [("fine",)]
    finally:
        con.close()


@pytest.mark.parametrize("content", [b"not a warehouse, just text\n" * 200, bytes(range(256)) * 40],
                         ids=["text", "binary"])
def test_a_file_duckdb_cannot_open_is_unreadable_at_once_not_busy(tmp_path, monkeypatch, capsys, content):
    from analytics import cli

    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(content)
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    with pytest.raises(warehouse.WarehouseUnreadable, match=r"warehouse\.duckdb cannot be opened .*not a valid "
                       r"DuckDB.* restore it from a backup.*policy-pulse ingest data/raw"):
        warehouse.connect(target, wait_seconds=30)
    assert waits == [], "no wait: waiting does not make it readable"
    with pytest.raises(warehouse.WarehouseUnreadable), warehouse.read_only(target):
        pass
    assert cli.main(["build", "--warehouse", str(target)]) == 2
    assert "cannot be opened" in capsys.readouterr().err
    assert target.read_bytes() == content, "left as it was"


@pytest.mark.parametrize(("command", "says"), [
    (["build"], "policy-pulse ingest"), (["report", "--period", "2026-Q3", "--no-pdf"], "policy-pulse ingest"),
    (["summary"], "policy-pulse ingest"), (["export", "posts"], "policy-pulse ingest"),
    (["forget", "--email", "someone@example.org"], "nothing to forget")])
def test_a_warehouse_that_is_not_there_is_named_with_what_to_do_and_not_made(tmp_path, capsys, command, says):
    from analytics import cli

    target = tmp_path / "misspelt" / "warehouse.duckdb"
    assert cli.main([*command, "--warehouse", str(target)]) == 2
    error = capsys.readouterr().err
    assert f"No warehouse at {target}" in error and says in error, error
    assert "WarehouseMissing" not in error and "POLICY_PULSE_DEBUG" not in error, "a message, not a crash"
    assert not target.parent.exists(), "no empty warehouse made at a mistyped path"


def test_a_mistyped_table_file_or_port_is_one_line_saying_what_to_give(sample_warehouse, tmp_path, capsys):
    from analytics import cli

    assert cli.main(["export", "post", "--warehouse", str(sample_warehouse), "--out", str(tmp_path / "x.csv")]) == 2
    error = capsys.readouterr().err
    assert "no table 'post'; its tables are" in error and "posts, " in error and "Run `policy-pulse build`" not in error
    assert not (tmp_path / "x.csv").exists()
    for command in (["codebook", str(tmp_path / "no-such-export.csv")],
                    ["evaluate", "--file", str(tmp_path / "no-such-labels.csv")]):
        assert cli.main(command) == 2
        assert capsys.readouterr().err == f"error: {tmp_path / command[-1].rsplit('/', 1)[-1]}: no such file.\n"
    with pytest.raises(SystemExit) as usage:
        cli.main(["dashboard", "--port", "99999", "--warehouse", str(sample_warehouse)])
    assert usage.value.code == 2 and "give a number from 1 to 65535" in capsys.readouterr().err
