# Power cuts: Tern's disk is recorded write by write (a FUSE file under a loop device), then rebuilt
# as a cut at many points would leave it; every message answered 250 before the cut must survive.
import ctypes.util
import os
import random
import time

import pytest

from conftest import TERN_BIN
from powercut import disk
from powercut.scenario import CutChecker, Mutations, record
from powercut.write_log import NONE, choose_cuts

pytestmark = pytest.mark.skipif(disk.missing_requirements() is not None,
                                reason=f"power-cut test: {disk.missing_requirements()}")

CLIENTS = 4
MESSAGES = 120            # sent during the recorded run, all clients together
CUTS = 16                 # cut points checked after it (each one a recovery of the daemon)
CONTROL_MESSAGES = 30     # the negative control's run, with syncs turned into no-ops
CONTROL_CUTS = 3


def seed_of_run():
    return int(os.environ.get("TERN_POWERCUT_SEED") or random.SystemRandom().randrange(1 << 32))


def report(capsys, title, seed, recording, verdicts, started):
    log = recording.log
    with capsys.disabled():  # the figures belong in the output of every run
        print(f"\n{title}: seed {seed} (TERN_POWERCUT_SEED={seed} sends the same messages and "
              f"picks the same cuts; powercut/replay.py {recording.base_image.parent} {seed} "
              f"CUT:VARIANT... checks these very images again); "
              f"{len(recording.acked())} messages acknowledged, {len(log.writes)} writes and "
              f"{len(log.fsyncs)} FSYNCs recorded in {recording.seconds:.0f}s, "
              f"{recording.watched} seen leaving the queue, "
              f"{len(verdicts)} cuts, {time.monotonic() - started:.0f}s in all")
        for v in verdicts:
            print(f"  {v.summary()} [{'; '.join(v.notes)}]")


def test_acknowledged_mail_survives_power_cuts(tmp_path, capsys):
    started = time.monotonic()
    seed = seed_of_run()
    recording = record(tmp_path, TERN_BIN, seed, CLIENTS, MESSAGES)
    assert len(recording.acked()) == MESSAGES
    cuts = choose_cuts(recording.log, recording.first, recording.last, CUTS, random.Random(seed))
    # The moment the blocked mailbox opened: many messages then have a durable "delivered" line
    # for one recipient and wait for the other.
    cuts = sorted({**dict(cuts), recording.unblocked: NONE}.items())
    checker = CutChecker(tmp_path, TERN_BIN, recording, seed)
    mutations = Mutations()
    verdicts = []
    controls = []
    for cut, variant in cuts:
        verdicts.append(checker.check(cut, variant))
        # The checker's own controls: the same cut with the disk damaged as a spool bug would.
        if cut == recording.unblocked:
            assert verdicts[-1].before.delivered, "no message partly delivered at the unblocking"
            controls.append(checker.check(cut, "none, state logs deleted",
                                          mutate=mutations.remove_state_logs))
        if cut == recording.last:
            controls.append(checker.check(cut, "all, finished messages put back",
                                          mutate=mutations.restore_messages))
    report(capsys, "power cut", seed, recording, verdicts + controls, started)

    failed = [v.summary() for v in verdicts if v.violations]
    assert not failed, f"seed {seed}:\n" + "\n".join(failed)
    for control, kind in zip(controls, ("delivered again", "came back")):
        caught = [v for v in control.violations if v.startswith(kind)]
        assert caught, f"the checker missed a spool bug: {control.summary()} {control.notes}"


def test_checker_finds_losses_when_syncs_are_disabled(tmp_path, capsys):
    """The negative control: with fsync, fdatasync and syncfs made no-ops (libeatmydata), a 250
    promises nothing, and the same checker must report acknowledged messages lost."""
    library = ctypes.util.find_library("eatmydata")
    if library is None:
        pytest.skip("libeatmydata is not installed (package eatmydata, scripts/install-deps.sh)")
    started = time.monotonic()
    seed = seed_of_run()
    recording = record(tmp_path, TERN_BIN, seed, CLIENTS, CONTROL_MESSAGES,
                       env={"LD_PRELOAD": library})
    during = [s for s in recording.log.fsyncs if recording.first < s <= recording.last]
    assert during == [], f"syncs reached the disk although disabled: FSYNCs {during[:10]}"
    first = max([recording.first] + [s.ack_seq for s in recording.acked()])
    cuts = choose_cuts(recording.log, first, recording.last, CONTROL_CUTS, random.Random(seed))
    checker = CutChecker(tmp_path, TERN_BIN, recording, seed)
    verdicts = [checker.check(cut, variant) for cut, variant in cuts]
    report(capsys, "power cut without syncs", seed, recording, verdicts, started)
    assert any(v.lost for v in verdicts), "the checker found no loss although nothing was synced"
