"""The tamper-evident ledger over the canonical log: the per-partition hash chain, Ed25519
signing, checkpoints on the audit topic and the log reader they share. Plumbing: the worker's
checkpoint agent writes checkpoints, :mod:`audit` verifies them."""
