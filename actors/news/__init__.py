"""The news scorer: scores the article queue one article at a time with the debates' LLM side."""
