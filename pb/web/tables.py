"""Browser sign-in sessions (the JSON API keeps its bearer tokens)."""

from piccolo.columns import ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from pb.accounts.tables import User


class BrowserSession(Table):
    """One signed-in browser. The cookie holds a random token; only its SHA-256 is stored here, so a
    database leak does not hand out live sessions. Deleting the row ends the session everywhere
    (log-out is server-side, and works with any number of workers)."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
