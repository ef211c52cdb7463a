"""The handlers' work on cases: transitions, the case page, the inbox, intake, the calendar."""
