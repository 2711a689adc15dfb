"""A warehouse's tables as frames, for comparing what two ways of loading the same files stored."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from analytics import sentiment


def loaded_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every table of the warehouse at ``path`` in row order, without the ingest's clock columns. The
    sentiment an ingest scored on the side (as much as it had time for: it differs from run to run) is
    checked to be the scorer's own scores of stored texts, and left out."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        tables = {name: con.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchdf()
                  .drop(columns=["started_at", "finished_at"], errors="ignore") for name in names}
        if "sentiment" in tables:
            scored = con.execute("""SELECT DISTINCT text FROM (SELECT text FROM posts UNION ALL
                                    SELECT text FROM audience_comments UNION ALL SELECT text FROM survey_comments)
                                    WHERE sha256(text) IN (SELECT text_hash FROM sentiment)""").fetchall()
            rows = tables.pop("sentiment").sort_values("text_hash", ignore_index=True)
            expected = sentiment.cache_rows([text for (text,) in scored]).sort_values("text_hash", ignore_index=True)
            pd.testing.assert_frame_equal(rows, expected, check_dtype=False, obj="sentiment scored by the ingest")
    return tables
