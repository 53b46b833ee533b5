"""Handing a context to the tools people run, pure: the variables ``run`` gives a
child (``variables``: azure-identity's ``AZURE_*``, Terraform's ``ARM_*``), what a
private Azure CLI folder holds so that ``az`` acts as one context (``azcli_folder``), and
which context a session's folder names (``session_default``). The files are written by
``azctx.store.azcli``."""
