"""Paper ballots awaiting their second entry: sealed, so the database never holds a resident's
paper vote in clear."""

from piccolo.columns import Bytea, Integer, Varchar
from piccolo.table import Table


class PaperEntry(Table):
    """One official's typing of one paper sheet; two matching entries by two officials count it.

    ``sealed`` is the resident (identifier HMAC) and their choices sealed to the round's key; the row
    is deleted once the ballot is counted. UNIQUE(round, budget, sheet, entered_by): pb_0008.
    """

    round = Integer(index=True)
    budget = Integer()
    sheet = Varchar(length=40)  # the serial number printed on the paper ballot
    station = Varchar(length=80)  # where it was cast (library, town hall…)
    entered_by = Integer()
    status = Varchar(length=12)  # "pending" (waits for a second official) | "mismatch"
    sealed = Bytea()
