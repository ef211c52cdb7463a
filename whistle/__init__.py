"""whistle: an anonymous whistleblowing and complaint-handling service."""
