"""The shell integration: the lines ``eval`` runs in each shell (``exports``)."""
