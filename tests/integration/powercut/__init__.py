# The power-cut test harness (see test_power_cut.py and docs/spool.md): a FUSE disk recorder,
# the cut images built from its log, SMTP traffic, and the checker of recovered mailboxes.
