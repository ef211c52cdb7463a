"""Every path to a key: case-key wraps, team-key hand-over by explicit approval, identity shares and releases, the anchored audit log."""
