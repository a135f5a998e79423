# Checks cuts of a power-cut run again from what the run left in its directory (base.img,
# writes.log, recording.json), the same disk images exactly, e.g. against a daemon with a fix:
#   TERN_BIN=$PWD/build/tern /usr/bin/python3 tests/integration/powercut/replay.py DIR SEED CUT:VARIANT...
# DIR, SEED and each CUT:VARIANT are printed by the test. Run as root. Only the cuts named build
# the durable history, so a "delivered again" found in the run needs its earlier cuts named too.
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import TERN_BIN  # noqa: E402
from powercut.scenario import CutChecker, Recording  # noqa: E402


def main(argv):
    if len(argv) < 3:
        print("usage: replay.py DIR SEED CUT:VARIANT...", file=sys.stderr)
        return 2
    recording = Recording.load(Path(argv[0]))
    seed = int(argv[1])
    cuts = sorted((int(cut), variant) for cut, variant in (a.split(":", 1) for a in argv[2:]))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="powercut-replay-") as tmp:
        checker = CutChecker(Path(tmp), TERN_BIN, recording, seed)
        for cut, variant in cuts:
            verdict = checker.check(cut, variant)
            print(f"{verdict.summary()} [{'; '.join(verdict.notes)}]")
            failed += bool(verdict.violations)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
