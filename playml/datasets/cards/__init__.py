"""Data cards (Markdown), one per bundled data set. Kept as a package so the cards install."""
