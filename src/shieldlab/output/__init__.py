"""Presentation: JSON documents, text tables, files and maps. No physics here."""
