"""The whole suite shares one stack (see common.testing.stack); unit tests never ask for it."""

pytest_plugins = ["common.testing.stack", "common.testing.travel"]
