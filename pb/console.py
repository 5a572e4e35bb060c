"""The ``pb`` command (pb/scripts/pb calls ``main``). ``pb tally`` is dispatched before anything
else is imported.

Why: ``pb tally`` is the pure engine on a file; importing the web app's command line
(click, piccolo, the settings) first would cost more than tallying a small election.
Every other command goes to :func:`pb.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> None:
    # ``pb tally --help`` is left to pb.cli, which lays the help out as for every command
    if sys.argv[1:2] == ["tally"] and not {"--help", "-h"} & set(sys.argv[2:]):
        # one short-lived run: the cyclic garbage collector would only re-scan numpy's import
        # and the engine's tables (about 10 % of a large tally), and frees no memory here
        import gc
        import os

        gc.disable()
        # the engine's numpy calls are element-wise or single vector products: OpenBLAS's
        # thread pool, started when numpy loads, would only cost about 30 ms of CPU
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from pb.tally.cli import main as tally_main

        code = tally_main(sys.argv[2:])
        # ends without tearing the interpreter down: freeing every object of a city-wide
        # tally one by one (ballot texts, tables, numpy's modules) costs up to 0.03 s of
        # CPU and gives nothing back to a process that is ending. Nothing of the tally
        # needs a clean shutdown (no atexit work, no files open); the output is flushed here.
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):  # the reader went away: nothing left to say
            pass
        os._exit(code)
    from pb.cli import main as app_main

    app_main()
