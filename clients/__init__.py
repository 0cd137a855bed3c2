"""What a platform or a regulator installs: the publisher SDK and inbox reader for platforms,
the alert subscriber for regulators. Imports only :mod:`schemas` and :mod:`streams`, never the
bureau's worker (:mod:`agents`) or Faust; an import-linter contract holds this."""
