"""The file formats of Azure's own tools, pure: text in, values out, and back. Az
PowerShell's ``AzureRmContext.json`` (``azps_import``, ``azps_export``), the Azure CLI's
``azureProfile.json`` and ``service_principal_entries.json`` (``azcli_profile``,
``azcli_entries``), the forgiving JSON reading they share (``json_input``) and the
values an import hands the store (``plans``)."""
