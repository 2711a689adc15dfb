"""Erasure on request: remove one person's rows everywhere (a leaver's right to be forgotten)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analytics import config, warehouse
from analytics.privacy import Vault, forget_identity, load_key, person_token, pseudonym
from analytics.snapshots import publish_snapshot

__all__ = ["forget_person"]

FORGOTTEN = "[person:forgotten]"


def forget_person(email: str, *, warehouse_file: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Delete every row keyed to the person with ``email`` and unlink their mentions in others' text.

    Their posts (with findings and facts), trainings, incidents (with their timings), linked survey
    responses (with their construct scores), employee and recognition rows go; mentions ``[person:…]``
    in other text become ``[person:forgotten]``; every identity vault of the key (a copied warehouse has
    its own) forgets their name, emails and handles (and records that it did). One transaction; then, in a
    warehouse built before, the build derives the figures again without them (the monthly and quarterly
    tables held their posts, answers and training in their counts), and the surfaces' snapshot is
    republished (before the vaults are cleaned, so that a failure there leaves no copy of their rows
    published; should the build fail, the erasure is published without it, and the error raised).

    Returns
    -------
    DataFrame
        Columns ``table, rows_removed`` (``rows_changed`` for unlinked mentions), one row per table touched.
    """
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address; forget takes the address on the roster.")
    key = load_key()
    employee_key = pseudonym(email, key)
    target = config.warehouse_path(warehouse_file)
    if not target.exists():
        raise warehouse.WarehouseMissing(f"No warehouse at {target}; nothing to forget.")
    token = person_token(employee_key)
    con = warehouse.connect(target)
    removed: list[tuple[str, int]] = []
    try:
        con.execute("BEGIN TRANSACTION")
        # first: a warehouse whose vault cannot be found stops the erasure before anything is deleted
        Vault.for_warehouse(target, key, people=warehouse.employee_keys(con))
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        built = "build_log" in tables and con.execute("SELECT count(*) FROM build_log").fetchone()[0] > 0
        post_uids = "SELECT post_uid FROM posts WHERE author_key = $key OR account_key = $key"
        statements = [
            ("post_findings", f"DELETE FROM post_findings WHERE post_uid IN ({post_uids})"),
            ("post_themes", f"DELETE FROM post_themes WHERE post_uid IN ({post_uids})"),
            ("post_scans", f"DELETE FROM post_scans WHERE post_uid IN ({post_uids})"),
            ("post_state", f"DELETE FROM post_state WHERE post_uid IN ({post_uids})"),
            ("amplification_keys", f"DELETE FROM amplification_keys WHERE post_uid IN ({post_uids})"),
            ("amplification_org", f"DELETE FROM amplification_org WHERE post_uid IN ({post_uids})"),
            ("amplifications", "DELETE FROM amplifications WHERE author_key = $key"),
            ("post_facts", "DELETE FROM post_facts WHERE author_key = $key OR account_key = $key"),
            ("audience_comments", f"DELETE FROM audience_comments WHERE post_uid IN ({post_uids})"),
            ("posts", "DELETE FROM posts WHERE author_key = $key OR account_key = $key"),
            ("trainings", "DELETE FROM trainings WHERE employee_key = $key"),
            ("incident_timings", "DELETE FROM incident_timings WHERE incident_id IN "
                                 "(SELECT incident_id FROM incidents WHERE employee_key = $key)"),
            ("incidents", "DELETE FROM incidents WHERE employee_key = $key"),
            ("survey_answers", "DELETE FROM survey_answers WHERE response_id IN "
                               "(SELECT response_id FROM respondents WHERE respondent_key = $key)"),
            ("survey_comments", "DELETE FROM survey_comments WHERE response_id IN "
                                "(SELECT response_id FROM respondents WHERE respondent_key = $key)"),
            ("construct_scores", "DELETE FROM construct_scores WHERE response_id IN "
                                 "(SELECT response_id FROM respondents WHERE respondent_key = $key)"),
            ("respondents", "DELETE FROM respondents WHERE respondent_key = $key"),
            ("recognition_names", "DELETE FROM recognition_names WHERE employee_key = $key"),
            ("employees", "DELETE FROM employees WHERE employee_key = $key"),
        ]
        for table, sql in statements:
            if table in tables:
                count = con.execute(sql, {"key": employee_key}).fetchone()[0]
                removed.append((table, int(count)))
        for table, column in warehouse.text_columns(con):
            if table in tables and column not in ("employee_key", "author_key", "account_key"):
                count = con.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", $token, $gone) '
                    f'WHERE contains("{column}", $token)', {"token": token, "gone": FORGOTTEN}
                ).fetchone()[0]
                if count:
                    removed.append((f"{table}.{column} (mentions unlinked)", int(count)))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        con.close()
        raise
    if built:
        _build_without_them(con, target)
    else:
        publish_snapshot(con, target, delete_old=True)
    vaults = forget_identity(employee_key, key)
    if vaults:
        removed.append(("identity vault", vaults))
    return pd.DataFrame(removed, columns=["table", "rows_removed"])


def _build_without_them(con, target: Path) -> None:
    """Build on ``con`` (the erasure committed) and publish; if the build fails, publish the erasure alone, so
    that the snapshot holding the person's rows is gone either way, and raise."""
    from analytics import build

    try:
        build.build(connection=con, warehouse_file=target, delete_old_snapshot=True)
    except BaseException:
        publish_snapshot(warehouse.connect(target), target, delete_old=True)
        raise
