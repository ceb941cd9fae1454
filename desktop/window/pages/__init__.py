"""The window's three pages: live, replay, scorecards (the call history)."""
