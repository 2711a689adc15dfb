"""Connection settings every caller of the warehouse gets."""

from __future__ import annotations

from analytics import warehouse


def _setting(con, name: str):
    return con.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def test_writer_caps_its_page_cache_and_readers_draw_no_progress_bar(tmp_path):
    target = tmp_path / "w.duckdb"
    con = warehouse.connect(target)
    try:
        # DuckDB reports the limit in its own units ("488.2 MiB" for 512MB); the default would be GiBs
        amount, unit = _setting(con, "memory_limit").split()
        assert float(amount) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit] <= 1024
        assert _setting(con, "enable_progress_bar") is False
        assert _setting(con, "TimeZone") == "UTC"
    finally:
        con.close()
    with warehouse.read_only(target, snapshot=False) as reader:
        assert _setting(reader, "enable_progress_bar") is False
