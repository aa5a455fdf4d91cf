"""App state in numpy: the document, painting operations, label suggestion, project files. No Qt, no torch."""
