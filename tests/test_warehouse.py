"""Connection settings every caller of the warehouse gets."""

from __future__ import annotations

from analytics import warehouse


def _setting(con, name: str):
    return con.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def test_writer_caps_its_page_cache_and_readers_draw_no_progress_bar(tmp_path):
    target = tmp_path / "w.duckdb"
    con = warehouse.connect(target)
    try:
        # DuckDB reports the limit in its own units (e.g. "953.6 MiB" for 1GB)
        assert "MiB" in _setting(con, "memory_limit") or "GiB" in _setting(con, "memory_limit")
        assert float(_setting(con, "memory_limit").split()[0]) <= 1024
        assert _setting(con, "enable_progress_bar") is False
        assert _setting(con, "TimeZone") == "UTC"
    finally:
        con.close()
    with warehouse.read_only(target, snapshot=False) as reader:
        assert _setting(reader, "enable_progress_bar") is False
