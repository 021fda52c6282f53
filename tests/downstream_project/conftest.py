pytest_plugins = ["vde.testing"]
