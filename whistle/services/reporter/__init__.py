"""Filing a report and the ticket holder's view of it."""
