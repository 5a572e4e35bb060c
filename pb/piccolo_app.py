"""The single Piccolo app holding every pb table, so one migration history covers the schema.

Each context keeps its own ``tables.py``; this module only lists them in creation order.
"""

import os

from piccolo.conf.apps import AppConfig

from pb.accounts.tables import Membership, Organisation, RefreshToken, RevokedLogin, User
from pb.audit.tables import AuditCheckpoint, AuditEvent
from pb.board.tables import BoardSnapshot
from pb.paper.tables import PaperEntry
from pb.grants.tables import Grant, ProgressReport, Tranche
from pb.payments.tables import (
    PaymentOrder, PaymentRecipient, PaymentSettings, ReconciliationRun, Reversal, StripeEvent,
)
from pb.proposals.tables import Appeal, Proposal, ProposalCoProposer, Review
from pb.results.tables import ProjectResult, TallyRun
from pb.rounds.tables import Budget, Round
from pb.sandbox.tables import SandboxElection
from pb.voting.tables import Ballot, CensusEntry, Participation, ReplacedReceipt, SealedBallot
from pb.web.tables import BrowserSession

TABLES = [
    Organisation, User, Membership, RefreshToken, RevokedLogin,
    AuditEvent, AuditCheckpoint,
    Round, Budget,
    Proposal, ProposalCoProposer, Review, Appeal,
    CensusEntry, Participation, SealedBallot, Ballot, ReplacedReceipt,
    TallyRun, ProjectResult,
    Grant, Tranche, ProgressReport,
    PaymentSettings, PaymentRecipient, PaymentOrder, Reversal, StripeEvent, ReconciliationRun,
    SandboxElection, BoardSnapshot, PaperEntry,
    BrowserSession,
]

APP_CONFIG = AppConfig(
    app_name="pb",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
