"""What an import does, free of Flask requests and of RQ."""
