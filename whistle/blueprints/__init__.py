"""One blueprint per audience: reporter (public, no JavaScript), officer, admin."""
