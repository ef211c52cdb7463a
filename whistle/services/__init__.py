"""Domain services: the logic routes call. No Flask request objects in here."""
