"""RQ entry points: thin, each builds the app and calls the same functions the views use."""
