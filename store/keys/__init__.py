"""The keys: the master key and its file (``master``), rotating it and opening a store
whose key file is behind a rotation (``rotation``, ``recovery``), the data keys it wraps
(``data_keys``), and AES-256-GCM itself (``cipher``)."""
