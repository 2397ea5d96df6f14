"""Chat layer: answering, citation checking and rendering."""
