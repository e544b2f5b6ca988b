pytest_plugins = ["lms.testing"]
