"""Officer accounts, enrolment, log-in and the second factor."""
