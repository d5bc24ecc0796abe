"""What a typed reply means at a question: exact matches, the analyzer's reading, and the order in which
readings are tried. Returns decisions; never changes a session."""
