"""The call history: the SQLite store, its schema, crash recovery, the live call's recorder.

No Qt: the command line and the window share it."""
