"""The examgate candidate engine: no Qt here. ``client.ui`` and ``client.proctor`` hold the Qt parts."""
