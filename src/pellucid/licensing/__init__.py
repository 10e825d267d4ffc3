"""Licences of model folders: the knowledge base (``knowledge``), the licence text identifier
(``matcher``), the evidence collector (``sources``) and the assessment built on them.

Importing this package loads nothing: the knowledge base and the fingerprints are read on
first use.
"""
