"""Web plumbing shared by every blueprint: headers, sessions, limits, language, errors, logs."""
