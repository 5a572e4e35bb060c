"""Staff pages: officials run a round, reviewers review, auditors check — in the browser.

Each module is a thin entry point over the same service functions as the JSON API. Who may see
and do what is decided once, in ``access``: the pages show an action only to a role whose service
call would accept it, and every POST goes through the same guard again.
"""

from pb.web.staff.audit import ROUTES as AUDIT
from pb.web.staff.census import ROUTES as CENSUS
from pb.web.staff.console import ROUTES as CONSOLE
from pb.web.staff.grants import ROUTES as GRANTS
from pb.web.staff.members import ROUTES as MEMBERS
from pb.web.staff.results import ROUTES as RESULTS
from pb.web.staff.reviews import ROUTES as REVIEWS
from pb.web.staff.rounds import ROUTES as ROUNDS

ROUTES = [*CONSOLE, *ROUNDS, *CENSUS, *MEMBERS, *REVIEWS, *RESULTS, *GRANTS, *AUDIT]
