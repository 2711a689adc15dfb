"""Small in-memory warehouses of employee posts, for checking what DuckDB counts against frames and by hand."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics import config, warehouse


def hostile_posts_warehouse(seed: int) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with ``post_facts``, ``post_themes``, ``amplifications``, ``employees`` and
    ``recognition_names``: missing authors, departments, engagement, sentiment and themes, a department of
    two people, organisation posts, posts at midnight of a quarter's first day in local time (an hour
    apart in UTC), and an opted-in author whose posts earn ten times the others' engagement."""
    rng = np.random.default_rng(seed)
    n = 600
    authors = np.array([f"a{i}" for i in range(30)] + [None], dtype=object)
    author = rng.choice(authors, n)
    star = rng.random(n) < 0.08
    author[star] = "a0"
    departments = {f"a{i}": ["Programs", "Comms", "Finance"][i % 3] for i in range(28)} | {"a28": "Tiny", "a29": "Tiny"}
    department = pd.array([departments.get(a) if rng.random() > 0.05 else None for a in author], dtype="str")
    # local midnights of quarters' first days (BST in April and October) and their UTC hours either side
    edges = pd.to_datetime(["2025-03-31 23:00:00", "2025-06-30 22:59:59", "2025-09-30 23:00:00", "2025-12-31 23:59:59",
                            "2026-01-01 00:00:00"], utc=True)
    published = pd.Series(pd.Timestamp("2025-01-01", tz="UTC")
                          + pd.to_timedelta(rng.integers(0, 540 * 24 * 60, n), unit="min"))
    published = published.where(rng.random(n) > 0.1, pd.Series(edges[rng.integers(0, len(edges), n)]))
    local = published.dt.tz_convert(config.get_settings().timezone).dt.tz_localize(None)
    engagement = rng.poisson(6, n).astype(float) * np.where(star, 10, 1)
    engagement[rng.random(n) < 0.05] = np.nan
    facts = pd.DataFrame({
        "post_uid": [f"p{i}" for i in range(n)],
        "platform": rng.choice(["x", "linkedin", "mastodon"], n),
        "account_type": np.where(rng.random(n) < 0.05, "organization", "employee"),
        "author_key": pd.array(author, dtype="str"), "department": department, "published_at": published,
        "month": local.dt.to_period("M").dt.to_timestamp().dt.date,
        "violation": (rng.random(n) < 0.1) & ~star,
        "sentiment_status": rng.choice(np.array(["scored", "scored", "not_english", None], dtype=object), n),
        "compound": np.where(star, 0.6, np.round(rng.uniform(-1, 1, n), 4)),
        "engagement": engagement})
    themed = rng.random(n) > 0.05
    themes = pd.DataFrame({"post_uid": facts["post_uid"][themed],
                           "theme": rng.choice(np.array(["impact_story", "achievement", "event", "other", None],
                                                        dtype=object), themed.sum())})
    amplifications = facts[["post_uid"]][rng.random(n) < 0.2]
    employees = pd.DataFrame({"employee_key": ["a0", "a1", "a2"], "department": ["Programs", "Comms", "Finance"],
                              "recognition_opt_in": [True, True, False]})
    names = pd.DataFrame({"employee_key": ["a0", "a2"], "display_name": ["Ada L.", "Grace H."]})
    return tables_warehouse({"post_facts": facts, "post_themes": themes, "amplifications": amplifications,
                             "employees": employees, "recognition_names": names})


def tables_warehouse(tables: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection (UTC, as the warehouse's) holding each of ``tables`` as a table of its name."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, frame in tables.items():
        with warehouse.registered(con, "_frame", frame.reset_index(drop=True)):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _frame")
    return con
