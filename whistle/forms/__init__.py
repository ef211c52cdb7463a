"""Form definitions and server-side validation, one module per audience."""
