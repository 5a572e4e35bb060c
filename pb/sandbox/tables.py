"""Pabulib files imported to try the rules on real ballots; apart from every real round."""

from piccolo.columns import Integer, Text, Varchar
from piccolo.table import Table


class SandboxElection(Table):
    """One imported ``.pb`` file of an organisation's sandbox: never a round, never on a ballot."""

    organisation_id = Integer(index=True)
    title = Varchar(length=200)
    pb_text = Text()  # the file as imported (UTF-8); re-read for every comparison
    projects = Integer()
    voters = Integer()
    created_by = Integer()
    created_at = Varchar(length=40)  # ISO 8601 UTC
