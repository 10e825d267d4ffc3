"""EU AI Act (Regulation (EU) 2024/1689) assessment of general-purpose AI models.

``analyzer.RegulationAnalyzer`` is the whole-model analysis "regulation": Annex XI and XII
checklists (``annexes``), the Code of Practice Model Documentation Form and the training-content
summary (``code_of_practice``), and the Art. 53(2) exemption with the Art. 51(2) compute
presumption (``exemption``, ``compute``). Automated assessments, not legal advice.
"""
