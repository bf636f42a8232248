"""Script: the issue rendered through templates into segments of narration."""
