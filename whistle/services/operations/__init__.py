"""What runs unattended: the sweep, housekeeping, retention, notifications."""
