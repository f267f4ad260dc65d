"""The examgate candidate engine, with no Qt: ``client.ui`` and ``client.proctor`` hold Qt."""
