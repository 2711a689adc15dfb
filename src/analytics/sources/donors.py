"""Private donors (``donors_private.csv``): whom the scrubber must never let appear in clear."""

from __future__ import annotations

from pathlib import Path

from analytics.sources._orgcsv import DONOR_NAME, PUBLIC_ACKNOWLEDGEMENT, Column, Rows, claims
from analytics.sources.base import Parsed, ReadContext

__all__ = ["DESCRIPTION", "FORMAT", "TABLES", "read", "sniff"]

FORMAT = "donors"
DESCRIPTION = "Private donor list CSV (donor_name, email, phone, public_acknowledgement yes/no)"
TABLES = ("donors",)

EMAIL = Column("email", ("email_address", "e-mail", "e-mail address"))
PHONE = Column("phone", ("phone_number", "telephone", "tel", "mobile"))


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has a donor name column and a public-acknowledgement column."""
    return claims(FORMAT, path, head)


def read(path: Path, context: ReadContext) -> Parsed:
    """The donors as staging table ``donors``.

    A donor whose row is rejected is not protected by the scrubber until the row is fixed, so every
    reason says so; the reject's raw text withholds the name, email and phone.
    """
    rows = Rows.load(path, (DONOR_NAME, EMAIL, PHONE, PUBLIC_ACKNOWLEDGEMENT), expected="a donor list",
                     private=[DONOR_NAME.name, EMAIL.name, PHONE.name])
    return rows.parsed(FORMAT, "donors", {
        "name": rows.text(DONOR_NAME.name, required=True),
        "email": rows.emails(EMAIL.name, required=False),
        "phone": rows.text(PHONE.name),
        "public_acknowledgement": rows.flags(PUBLIC_ACKNOWLEDGEMENT.name),
    }, note=" (until this row is fixed, this donor is not hidden in posts and comments)")
