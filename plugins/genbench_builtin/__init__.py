"""genbench's built-in plugins, found through the ``genbench`` entry point group like any other."""
