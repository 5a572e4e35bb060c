"""``python -m pb.tally FILE.pb --rule ...``: the same as ``pb tally``."""

from pb.tally.cli import main

raise SystemExit(main())
