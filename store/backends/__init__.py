"""Where the log's rows are kept: one module per backend behind the ``Recorder``
contract (``recorder``): ``sqlite`` on the standard library's sqlite3 (the default, with
``sqlite_file``, the checks of a database file before SQLite touches it),
``sqlalchemy_core`` for any SQLAlchemy URL (PostgreSQL for teams), and ``absent``, a
store not created yet, which holds nothing and creates nothing."""
